/**
 * What the delivery log learns outside a job's write: requests that queued no job (refused, or Redis down), and jobs
 * that failed for good. Entries go to a Redis list that workers move into SQL, so the request path never writes
 * SQL and a failure is still recorded when the database is what failed. While Redis is unreachable they wait in
 * memory (up to MAX_BUFFERED_BYTES) and go out once it is back.
 */
import type { RedisClient } from './redis';
import type { Logger } from '../log';
import type { DeliveryRecord, JobDelivery } from '../deliveries/deliveryRecord';
import { sealText } from '../sealing';

export type OutboxEntry =
  | { kind: 'record'; record: DeliveryRecord }
  | { kind: 'failed'; delivery: JobDelivery; insertIds: string[]; error: string; at: number };

/**
 * Bytes of entries (JSON, sealed or not) a process keeps while Redis is unreachable; past it the oldest go. A bound
 * in bytes, not entries: one request's record can weigh anything from 200 bytes to some 60 KB (100 reasons and a
 * User-Agent), and a bound of 10,000 records once let a few thousand large ones exhaust the heap.
 */
export const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;

/** While entries are being dropped, the warning saying so is logged at most this often, with the count since the last one. */
const DROP_WARNING_INTERVAL_MS = 5000;

/** Associated data of a sealed outbox entry: it opens only as one. */
export const OUTBOX_CONTEXT = 'delivery-outbox';

export function deliveryListKey(prefix: string): string {
  return `${prefix}:deliveries`;
}

/** Where a worker puts records it cannot open (sealed, and it has no key or another one) until one that can writes them. */
export function unopenedDeliveryListKey(prefix: string): string {
  return `${prefix}:deliveries:unopened`;
}

export interface DeliveryOutbox {
  record(record: DeliveryRecord): void;
  failed(delivery: JobDelivery, insertIds: string[], error: string): void;
  /** Sends what is buffered; resolves when done or when Redis refuses. */
  flush(): Promise<void>;
}

/** With `encryptionKey` (JOB_ENCRYPTION_KEY) entries are sealed: rejection messages and errors may quote what people sent. */
export function createDeliveryOutbox(redis: RedisClient, prefix: string, log: Logger, encryptionKey?: Buffer): DeliveryOutbox {
  const key = deliveryListKey(prefix);
  const buffered: Array<{ text: string; bytes: number }> = [];
  let bufferedBytes = 0;
  let dropped = 0;
  let lastWarningAt = 0;
  let flushing: Promise<void> | undefined;

  const warnDropped = () => {
    log.warn({ dropped, bufferLimitBytes: MAX_BUFFERED_BYTES }, `Redis is unreachable and the delivery log buffer is full: ${dropped} oldest delivery record(s) dropped (the requests were answered; only their log entries are lost)`);
    dropped = 0;
    lastWarningAt = Date.now();
  };

  async function send(): Promise<void> {
    while (buffered.length > 0 && redis.status === 'ready') {
      const batch = buffered.slice(0, 500);
      try {
        await redis.lpush(key, ...batch.map((entry) => entry.text));
      } catch {
        return;
      }
      buffered.splice(0, batch.length);
      bufferedBytes -= batch.reduce((sum, entry) => sum + entry.bytes, 0);
    }
    if (dropped > 0 && redis.status === 'ready') warnDropped();
  }

  const flush = () => (flushing ??= send().finally(() => (flushing = undefined)));
  redis.on('ready', () => void flush());

  const push = (entry: OutboxEntry) => {
    const json = JSON.stringify(entry);
    const text = encryptionKey ? sealText(encryptionKey, json, OUTBOX_CONTEXT) : json;
    const bytes = Buffer.byteLength(text);
    while (buffered.length > 0 && bufferedBytes + bytes > MAX_BUFFERED_BYTES) {
      bufferedBytes -= (buffered.shift() as { bytes: number }).bytes;
      dropped += 1;
    }
    buffered.push({ text, bytes });
    bufferedBytes += bytes;
    if (dropped > 0 && Date.now() - lastWarningAt >= DROP_WARNING_INTERVAL_MS) warnDropped();
    void flush();
  };

  return {
    record: (record) => push({ kind: 'record', record }),
    failed: (delivery, insertIds, error) => push({ kind: 'failed', delivery, insertIds, error, at: Date.now() }),
    flush,
  };
}
