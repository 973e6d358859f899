/** The worker refreshes the query planner's statistics at start and every hour, as the tables it writes grow. */
import type { Db } from '../store/db';
import type { Logger } from '../log';
import { refreshPlannerStatistics } from '../store/plannerStatistics';

const REFRESH_EVERY_MS = 60 * 60 * 1000;

export interface StatisticsKeeper {
  /** Resolves once a refresh under way has ended, so the database can close after it. */
  stop(): Promise<void>;
}

export function startStatisticsKeeper(db: Db, log: Logger): StatisticsKeeper {
  // Stale statistics slow reads, never writes: a refresh that fails is logged and tried again next hour.
  const refresh = () => refreshPlannerStatistics(db).catch((error: Error) => log.warn({ err: error }, 'could not refresh the query planner statistics'));
  let running = refresh();
  const timer = setInterval(() => (running = refresh()), REFRESH_EVERY_MS);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}
