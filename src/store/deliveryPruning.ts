/** DELIVERY_RETENTION_DAYS: the delivery log forgets requests older than that. */
import type { Db } from './db';
import { BatchOptions, deleteInBatches } from './batchedDelete';

const BATCH: BatchOptions = { size: 500, pauseMs: 10 };

/** Deletes deliveries received before `cutoff` and their outcomes; returns how many deliveries went. */
export function pruneDeliveries(db: Db, cutoff: number, stopped?: () => boolean): Promise<number> {
  return deleteInBatches<string>(
    db,
    {
      select: async (from, limit) => (await from('deliveries').where('received_at', '<', cutoff).limit(limit).select('id')).map((row: { id: string }) => row.id),
      async remove(trx, ids) {
        await trx('delivery_events').whereIn('delivery_id', ids).delete();
        await trx('deliveries').whereIn('id', ids).delete();
      },
    },
    { ...BATCH, stopped },
  );
}
