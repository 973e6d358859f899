/**
 * ACTIVITY_RETENTION_DAYS: activities whose date (when the event happened) is older than that are deleted, tenant by
 * tenant, so each batch is found on the (tenant_id, date) index the read API already keeps: no index of its own for
 * every insert to pay.
 */
import type { Db } from './db';
import { BatchOptions, deleteInBatches } from './batchedDelete';

const BATCH: BatchOptions = { size: 1000, pauseMs: 10 };

/** Deletes activities dated before `cutoff` (epoch ms); returns how many went. */
export async function pruneActivities(db: Db, cutoff: number, stopped?: () => boolean): Promise<number> {
  const tenantIds: number[] = (await db('tenants').select('id')).map((row: { id: number }) => row.id);
  let removed = 0;
  for (const tenantId of tenantIds) {
    removed += await deleteInBatches<number>(
      db,
      {
        select: async (from, limit) => (await from('activities').where('tenant_id', tenantId).andWhere('date', '<', cutoff).limit(limit).select('id')).map((row: { id: number }) => row.id),
        remove: async (trx, ids) => void (await trx('activities').whereIn('id', ids).delete()),
      },
      { ...BATCH, stopped },
    );
  }
  return removed;
}
