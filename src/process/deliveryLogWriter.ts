/**
 * Moves delivery-log entries left in Redis (requests that queued no job, jobs that failed for good) into SQL in batches, and prunes
 * the log past DELIVERY_RETENTION_DAYS. Runs in every worker process; LPOP hands each record to one of them.
 */
import type { RedisClient } from '../queue/redis';
import type { Db } from '../store/db';
import type { Logger } from '../log';
import { pruneDeliveries } from '../store/deliveryPruning';
import { pruneAppliedUpdates } from '../store/properties';
import { writeOutboxEntries } from './outboxEntries';
import { deliveryListKey, OUTBOX_CONTEXT, OutboxEntry } from '../queue/deliveryOutbox';
import { openText, SealedPayloadError } from '../sealing';

const DRAIN_EVERY_MS = 1000;
const PRUNE_EVERY_MS = 60 * 60 * 1000;
const BATCH = 500;

export interface DeliveryLogWriter {
  /** Writes what is waiting now; used at shutdown and by tests. */
  drain(): Promise<void>;
  stop(): Promise<void>;
}

export interface DeliveryLogOptions {
  prefix: string;
  retentionDays: number;
  encryptionKey?: Buffer;
}

export function startDeliveryLogWriter(redis: RedisClient, db: Db, { prefix, retentionDays, encryptionKey }: DeliveryLogOptions, log: Logger): DeliveryLogWriter {
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
  const prune = async () => {
    const cutoff = Date.now() - retentionDays * 24 * 60 * 60 * 1000;
    const removed = await pruneDeliveries(db, cutoff);
    if (removed > 0) log.info({ removed, retentionDays }, 'pruned the delivery log');
    // Identify events are recognized as redelivered for as long as the log keeps their requests.
    await pruneAppliedUpdates(db, cutoff);
  };
  const drainTimer = setInterval(() => drain().catch((error: Error) => log.warn({ err: error }, 'could not write delivery log records yet')), DRAIN_EVERY_MS);
  const pruneTimer = setInterval(() => prune().catch((error: Error) => log.warn({ err: error }, 'could not prune the delivery log')), PRUNE_EVERY_MS);
  drainTimer.unref();
  pruneTimer.unref();
  prune().catch((error: Error) => log.warn({ err: error }, 'could not prune the delivery log'));

  return {
    drain,
    async stop() {
      clearInterval(drainTimer);
      clearInterval(pruneTimer);
      await drain().catch((error: Error) => log.warn({ err: error }, 'delivery log records left in Redis for the next worker'));
    },
  };
}
