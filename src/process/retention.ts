/**
 * Retention, run by every worker process at start and then every few minutes: the delivery log past
 * DELIVERY_RETENTION_DAYS (with the insert ids of the identify events it covers) and, when ACTIVITY_RETENTION_DAYS is set, activities dated before it. Deletes go in small
 * batches (store/batchedDelete.ts) between which the worker's own writes get the database.
 */
import type { Db } from '../store/db';
import type { Logger } from '../log';
import { pruneDeliveries } from '../store/deliveryPruning';
import { pruneActivities } from '../store/activityPruning';
import { pruneAppliedUpdates } from '../store/properties';

const DAY_MS = 24 * 60 * 60 * 1000;
/** Often enough that a pass has a few minutes' worth to delete, so it stays short. */
const PRUNE_EVERY_MS = 5 * 60 * 1000;

/** Events dated before this are past ACTIVITY_RETENTION_DAYS (`days` > 0): the next pass would prune their activities. */
export function activityCutoff(days: number, now: number): number | undefined {
  return days > 0 ? now - days * DAY_MS : undefined;
}

export interface RetentionDays {
  deliveries: number;
  /** 0: activities are kept for ever. */
  activities: number;
}

export interface Retention {
  /** A pass after the one under way, if any; resolves when it is done. Used by tests. */
  passNow(): Promise<void>;
  /** Ends a pass under way at its next batch, and resolves once it has. */
  stop(): Promise<void>;
}

export function startRetention(db: Db, days: RetentionDays, log: Logger): Retention {
  let stopping = false;
  const stopped = () => stopping;
  const pass = async () => {
    const deliveries = await pruneDeliveries(db, Date.now() - days.deliveries * DAY_MS, stopped);
    if (deliveries > 0) log.info({ removed: deliveries, retentionDays: days.deliveries }, 'pruned the delivery log');
    // Identify events are recognized as redelivered for as long as the log keeps their requests.
    await pruneAppliedUpdates(db, Date.now() - days.deliveries * DAY_MS, stopped);
    if (days.activities === 0) return;
    const activities = await pruneActivities(db, activityCutoff(days.activities, Date.now()) as number, stopped);
    if (activities > 0) log.info({ removed: activities, retentionDays: days.activities }, 'pruned activities past ACTIVITY_RETENTION_DAYS');
  };
  // A pass that fails (the database away) is logged and tried again at the next one.
  const run = () => pass().catch((error: Error) => log.warn({ err: error }, 'could not prune what is past its retention; trying again later'));
  let running = run();
  // One pass at a time: a long one (the first after the setting is lowered) is not overtaken by the next.
  const passNow = () => (running = running.then(run));
  const timer = setInterval(passNow, PRUNE_EVERY_MS);
  timer.unref();
  return {
    passNow,
    async stop() {
      stopping = true;
      clearInterval(timer);
      await running;
    },
  };
}
