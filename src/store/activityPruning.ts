/**
 * ACTIVITY_RETENTION_DAYS: activities whose date (when the event happened) is older than that are deleted, tenant by
 * tenant, so each batch is found on the (tenant_id, date) index the read API already keeps: no index of its own for
 * every insert to pay.
 */
import type { Knex } from 'knex';
import type { Db } from './db';
import { BatchOptions, deleteInBatches } from './batchedDelete';
import { EventOutcomeRow, recordEventOutcomes } from './deliveryWrites';

const BATCH: BatchOptions = { size: 1000, pauseMs: 10 };

interface PrunedActivity {
  id: number;
  delivery_id: string | null;
  delivery_index: number | null;
  insert_id: string;
}

/** The delivery log counts a stored event by its activity: one whose activity is gone says "pruned" instead of looking pending. */
async function recordPruned(trx: Knex.Transaction, activities: PrunedActivity[]): Promise<void> {
  const deliveryIds = [...new Set(activities.flatMap((activity) => activity.delivery_id ?? []))];
  if (deliveryIds.length === 0) return;
  // Only for requests the log still keeps: an outcome row without its request would never be pruned.
  const kept = new Set((await trx('deliveries').whereIn('id', deliveryIds).select('id')).map((row: { id: string }) => row.id));
  const rows: EventOutcomeRow[] = activities.flatMap((activity) =>
    activity.delivery_id !== null && activity.delivery_index !== null && kept.has(activity.delivery_id)
      ? [{ deliveryId: activity.delivery_id, index: activity.delivery_index, insertId: activity.insert_id, outcome: 'pruned' as const, error: 'stored, then its activity was deleted: dated before ACTIVITY_RETENTION_DAYS' }]
      : [],
  );
  await recordEventOutcomes(trx, rows, Date.now());
}

/** Deletes activities dated before `cutoff` (epoch ms); returns how many went. */
export async function pruneActivities(db: Db, cutoff: number, stopped?: () => boolean): Promise<number> {
  const tenantIds: number[] = (await db('tenants').select('id')).map((row: { id: number }) => row.id);
  let removed = 0;
  for (const tenantId of tenantIds) {
    removed += await deleteInBatches<PrunedActivity>(
      db,
      {
        select: (from, limit) => from('activities').where('tenant_id', tenantId).andWhere('date', '<', cutoff).limit(limit).select('id', 'delivery_id', 'delivery_index', 'insert_id'),
        async remove(trx, activities) {
          await trx('activities').whereIn('id', activities.map((activity) => activity.id)).delete();
          await recordPruned(trx, activities);
        },
      },
      { ...BATCH, stopped },
    );
  }
  return removed;
}
