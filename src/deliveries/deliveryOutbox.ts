/**
 * What the delivery log learns outside a job's write: requests that queued no job (refused, or Redis down), and jobs
 * that failed for good. Entries go to a Redis list that workers move into SQL, so the request path never writes
 * SQL and a failure is still recorded when the database is what failed. While Redis is unreachable they wait in
 * memory (up to a bound) and go out once it is back.
 */
import type { RedisClient } from '../queue/redis';
import type { Logger } from '../log';
import type { DeliveryRecord, JobDelivery } from './deliveryRecord';
import { sealText } from '../queue/jobCipher';

export type OutboxEntry =
  | { kind: 'record'; record: DeliveryRecord }
  | { kind: 'failed'; delivery: JobDelivery; insertIds: string[]; error: string; at: number };

export const MAX_BUFFERED_RECORDS = 10000;

/** Associated data of a sealed outbox entry: it opens only as one. */
export const OUTBOX_CONTEXT = 'delivery-outbox';

export function deliveryListKey(prefix: string): string {
  return `${prefix}:deliveries`;
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
  const buffered: string[] = [];
  let dropped = 0;
  let flushing: Promise<void> | undefined;

  async function send(): Promise<void> {
    while (buffered.length > 0 && redis.status === 'ready') {
      const batch = buffered.slice(0, 500);
      try {
        await redis.lpush(key, ...batch);
      } catch {
        return;
      }
      buffered.splice(0, batch.length);
    }
    if (dropped > 0 && redis.status === 'ready') {
      log.warn({ dropped }, 'delivery log records were dropped while Redis was unreachable (buffer full)');
      dropped = 0;
    }
  }

  const flush = () => (flushing ??= send().finally(() => (flushing = undefined)));
  redis.on('ready', () => void flush());

  const push = (entry: OutboxEntry) => {
    if (buffered.length >= MAX_BUFFERED_RECORDS) {
      buffered.shift();
      dropped += 1;
    }
    const text = JSON.stringify(entry);
    buffered.push(encryptionKey ? sealText(encryptionKey, text, OUTBOX_CONTEXT) : text);
    void flush();
  };

  return {
    record: (record) => push({ kind: 'record', record }),
    failed: (delivery, insertIds, error) => push({ kind: 'failed', delivery, insertIds, error, at: Date.now() }),
    flush,
  };
}
