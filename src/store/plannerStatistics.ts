/** Keeps the query planner's statistics fresh, so list pages stay on their indexes as tenants grow. */
import type { Db } from './db';
import { dialectOf } from './db';

/**
 * Without statistics both planners misjudge a tenant's share of a table and sort its rows instead of walking an
 * index (docs/performance.md has the figures). SQLite's `PRAGMA optimize` analyzes only the tables whose statistics
 * are missing or stale, so it is cheap to run often; 0x10002 lets it look at every table on a connection that has
 * run no query yet. PostgreSQL's autovacuum analyzes eventually, but
 * a freshly loaded table may go without until then; ANALYZE samples, so its cost does not grow with the table.
 */
export async function refreshPlannerStatistics(db: Db): Promise<void> {
  if (dialectOf(db) === 'sqlite') await db.raw('PRAGMA optimize = 0x10002');
  else await db.raw('ANALYZE');
}
