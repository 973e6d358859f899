/**
 * Moves delivery-log entries left in Redis (requests that queued no job, jobs that failed for good) into SQL in
 * batches (./retention.ts prunes the log). Runs in every worker process; LPOP hands each record to one of them.
 * A record sealed with a JOB_ENCRYPTION_KEY this worker lacks is set aside in Redis, not dropped, until a worker
 * with that key writes it.
 */
import type { RedisClient } from '../queue/redis';
import type { Db } from '../store/db';
import type { Logger } from '../log';
import { writeOutboxEntries } from './outboxEntries';
import { deliveryListKey, OUTBOX_CONTEXT, OutboxEntry, unopenedDeliveryListKey } from '../queue/deliveryOutbox';
import { repeatedWarning } from '../repeatedWarning';
import { openText, SealedPayloadError } from '../sealing';

const DRAIN_EVERY_MS = 1000;
const BATCH = 500;

export interface DeliveryLogWriter {
  /** Writes what is waiting now; used at shutdown and by tests. */
  drain(): Promise<void>;
  stop(): Promise<void>;
}

export interface DeliveryLogOptions {
  prefix: string;
  encryptionKey?: Buffer;
}

export function startDeliveryLogWriter(redis: RedisClient, db: Db, { prefix, encryptionKey }: DeliveryLogOptions, log: Logger): DeliveryLogWriter {
  const key = deliveryListKey(prefix);
  const unopenedKey = unopenedDeliveryListKey(prefix);
  const unopenedWarning = repeatedWarning(
    log,
    `delivery log records sealed with a JOB_ENCRYPTION_KEY this worker does not have (none set, or another key) are kept in Redis (${unopenedKey}) until a worker with that key writes them`,
  );
  let running: Promise<void> | undefined;

  /** Writes the records of `raw` that open; those that do not go to the unopened list (kept in the main list, they would block it for good). */
  async function writeRecords(raw: string[], from: string): Promise<void> {
    const opened: Array<{ text: string; entry: OutboxEntry }> = [];
    const unopened: string[] = [];
    for (const text of raw) {
      try {
        opened.push({ text, entry: JSON.parse(openText(encryptionKey, text, OUTBOX_CONTEXT)) as OutboxEntry });
      } catch (error) {
        if (!(error instanceof SealedPayloadError)) throw error;
        unopened.push(text);
      }
    }
    if (unopened.length > 0) {
      await redis.rpush(unopenedKey, ...unopened);
      if (from === key) unopenedWarning({ records: unopened.length });
    }
    try {
      await writeOutboxEntries(db, opened.map(({ entry }) => entry));
    } catch (error) {
      // Back into the list, to be written when the database answers again.
      if (opened.length > 0) await redis.rpush(from, ...opened.map(({ text }) => text));
      throw error;
    }
  }

  async function drainOnce(): Promise<void> {
    for (;;) {
      const raw = (await redis.lpop(key, BATCH)) ?? [];
      if (raw.length === 0) break;
      await writeRecords(raw, key);
    }
    // A worker with a key tries one batch of the set-aside records per drain: those sealed with its key are written.
    if (!encryptionKey) return;
    const unopened = (await redis.lpop(unopenedKey, BATCH)) ?? [];
    if (unopened.length > 0) await writeRecords(unopened, unopenedKey);
  }

  const drain = () => (running ??= drainOnce().finally(() => (running = undefined)));
  const drainTimer = setInterval(() => drain().catch((error: Error) => log.warn({ err: error }, 'could not write delivery log records yet')), DRAIN_EVERY_MS);
  drainTimer.unref();

  return {
    drain,
    async stop() {
      clearInterval(drainTimer);
      await drain().catch((error: Error) => log.warn({ err: error }, 'delivery log records left in Redis for the next worker'));
    },
  };
}
