/**
 * Moves delivery-log entries left in Redis (requests that queued no job, jobs that failed for good) into SQL in
 * batches (./retention.ts prunes the log). Runs in every worker process; LPOP hands each record to one of them.
 */
import type { RedisClient } from '../queue/redis';
import type { Db } from '../store/db';
import type { Logger } from '../log';
import { writeOutboxEntries } from './outboxEntries';
import { deliveryListKey, OUTBOX_CONTEXT, OutboxEntry } from '../queue/deliveryOutbox';
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
  /** An entry that does not open (no key, or another one) is dropped with a warning: kept, it would block the list for good. */
  const readEntries = (raw: string[]): OutboxEntry[] =>
    raw.flatMap((text) => {
      try {
        return [JSON.parse(openText(encryptionKey, text, OUTBOX_CONTEXT)) as OutboxEntry];
      } catch (error) {
        if (!(error instanceof SealedPayloadError)) throw error;
        log.warn({ err: error }, 'dropped a delivery log record that does not open');
        return [];
      }
    });
  let running: Promise<void> | undefined;

  async function drainOnce(): Promise<void> {
    for (;;) {
      const raw = (await redis.lpop(key, BATCH)) ?? [];
      if (raw.length === 0) return;
      try {
        await writeOutboxEntries(db, readEntries(raw));
      } catch (error) {
        // Back into the list, to be written when the database answers again.
        await redis.rpush(key, ...raw);
        throw error;
      }
    }
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
