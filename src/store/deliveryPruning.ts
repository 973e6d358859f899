/** DELIVERY_RETENTION_DAYS: the delivery log forgets requests older than that. */
import type { Db } from './db';

/** Deletes deliveries received before `cutoff` and their outcomes; returns how many deliveries went. */
export async function pruneDeliveries(db: Db, cutoff: number): Promise<number> {
  let removed = 0;
  for (;;) {
    const ids: string[] = (await db('deliveries').where('received_at', '<', cutoff).limit(500).select('id')).map((row: { id: string }) => row.id);
    if (ids.length === 0) return removed;
    await db.transaction(async (trx) => {
      await trx('delivery_events').whereIn('delivery_id', ids).delete();
      await trx('deliveries').whereIn('id', ids).delete();
    });
    removed += ids.length;
  }
}
