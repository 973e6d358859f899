/**
 * The worker refreshes the query planner's statistics at start and every hour, and between those, every few seconds,
 * those of the tables that changed much since their last analysis (a bulk load).
 */
import type { Db } from '../store/db';
import type { Logger } from '../log';
import { repeatedWarning } from '../repeatedWarning';
import { analyzeChangedTables, refreshPlannerStatistics } from '../store/plannerStatistics';

const REFRESH_EVERY_MS = 60 * 60 * 1000;
/** Soon after a load, so pages read after it are planned on its rows; the check is one read of the server's counters. */
const CHANGES_CHECKED_EVERY_MS = 10 * 1000;

export interface StatisticsKeeper {
  /** Resolves once a refresh under way has ended, so the database can close after it. */
  stop(): Promise<void>;
}

export function startStatisticsKeeper(db: Db, log: Logger): StatisticsKeeper {
  // Stale statistics slow reads, never writes: a refresh that fails is logged and tried again at the next turn.
  // Once a minute at most while the database is away, not once per 10-second check.
  const warn = repeatedWarning(log, 'could not refresh the query planner statistics', 60000);
  const failed = (error: Error) => warn({ err: error });
  // One refresh at a time: a turn that comes while one runs is skipped.
  let running: Promise<unknown> | undefined;
  const run = (refresh: () => Promise<unknown>) => {
    running ??= refresh()
      .catch(failed)
      .finally(() => (running = undefined));
  };
  run(() => refreshPlannerStatistics(db));
  const hourly = setInterval(() => run(() => refreshPlannerStatistics(db)), REFRESH_EVERY_MS);
  const changes = setInterval(() => run(() => analyzeChangedTables(db)), CHANGES_CHECKED_EVERY_MS);
  hourly.unref();
  changes.unref();
  return {
    stop: async () => {
      clearInterval(hourly);
      clearInterval(changes);
      await running;
    },
  };
}
