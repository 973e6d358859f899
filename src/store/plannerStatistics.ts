/** Keeps the query planner's statistics fresh, so list pages stay on their indexes as tenants grow. */
import type { Db } from './db';
import { dialectOf, schemaOf } from './db';

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

/** Changed rows past which a table is analyzed again: autovacuum's rule and defaults (50 rows and a tenth of the table). */
const CHANGED_ROWS_FLOOR = 50;
const CHANGED_SHARE = 0.1;

/**
 * PostgreSQL: analyzes the tables whose rows changed by more than 50 rows and a tenth of the table since their last
 * analysis, as autovacuum would, for a server where it runs late or not at all: a table filled after its last
 * analysis is planned as if it were still nearly empty, and a page of 70,000 activities then joined and sorted all
 * of them (200 ms instead of 7). Returns the tables analyzed. SQLite: none; its hourly `PRAGMA optimize` suffices.
 */
export async function analyzeChangedTables(db: Db): Promise<string[]> {
  const schema = schemaOf(db);
  if (schema === undefined) return [];
  const stale: string[] = await db('pg_stat_user_tables')
    .where({ schemaname: schema })
    .whereRaw('n_mod_since_analyze >= ?::float8 + ?::float8 * n_live_tup', [CHANGED_ROWS_FLOOR, CHANGED_SHARE])
    .orderBy('relname')
    .pluck('relname');
  for (const table of stale) await db.raw('ANALYZE ??', [`${schema}.${table}`]);
  return stale;
}
