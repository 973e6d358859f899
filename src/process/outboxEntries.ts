/** Delivery-log entries that came through the Redis outbox, written to SQL in one transaction. */
import type { Db } from '../store/db';
import { takeWriteLock } from '../store/locks';
import { insertDeliveryRecords, recordEventOutcomes, storedDeliveryIndexes } from '../store/deliveryWrites';
import type { OutboxEntry } from '../queue/deliveryOutbox';

/**
 * Writes outbox entries in one transaction. A failure is recorded only for events not stored meanwhile: a job
 * replayed before its failure reached SQL has already stored them.
 */
export async function writeOutboxEntries(db: Db, entries: OutboxEntry[]): Promise<void> {
  await db.transaction(async (trx) => {
    await takeWriteLock(trx);
    const records = entries.flatMap((entry) => (entry.kind === 'record' ? [entry.record] : entry.delivery.record ? [entry.delivery.record] : []));
    await insertDeliveryRecords(trx, records);
    for (const entry of entries) {
      if (entry.kind !== 'failed') continue;
      const { delivery } = entry;
      const stored = await storedDeliveryIndexes(trx, delivery.id);
      const rows = delivery.indexes
        .map((index, position) => ({ deliveryId: delivery.id, index, insertId: entry.insertIds[position], outcome: 'failed' as const, error: entry.error }))
        .filter((row) => !stored.has(row.index));
      await recordEventOutcomes(trx, rows, entry.at);
    }
  });
}
