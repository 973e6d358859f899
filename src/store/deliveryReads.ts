/** The delivery log as the admin API shows it: requests newest first, each with the outcome of its events. */
import type { Db } from './db';
import { decodeCursor, encodeCursor, RowId, WALK_IN_ID_ORDER } from './readQueries';

export interface DeliveryFilter {
  status?: number;
  from?: number;
  to?: number;
}

interface DeliveryRow {
  seq: RowId;
  id: string;
  tenant_id: number;
  received_at: number | string;
  endpoint: string;
  user_agent: string | null;
  status: number;
  accepted: number;
  rejected: string;
  rejected_count: number | null;
}

const OUTCOMES = ['stored', 'duplicate', 'filtered', 'identified', 'failed', 'pruned'] as const;

async function outcomeCounts(db: Db, deliveryIds: string[]): Promise<Map<string, Record<string, number>>> {
  const counts = new Map<string, Record<string, number>>(deliveryIds.map((id) => [id, Object.fromEntries(OUTCOMES.map((outcome) => [outcome, 0]))]));
  if (deliveryIds.length === 0) return counts;
  const stored: Array<{ delivery_id: string; n: number | string }> = await db('activities').whereIn('delivery_id', deliveryIds).groupBy('delivery_id').select('delivery_id').count({ n: '*' });
  for (const row of stored) (counts.get(row.delivery_id) as Record<string, number>).stored = Number(row.n);
  // A stored event is counted by its activity; its delivery_events row, when it has one, only carries a note.
  const others: Array<{ delivery_id: string; outcome: string; n: number | string }> = await db('delivery_events').whereIn('delivery_id', deliveryIds).whereNot('outcome', 'stored').groupBy('delivery_id', 'outcome').select('delivery_id', 'outcome').count({ n: '*' });
  for (const row of others) (counts.get(row.delivery_id) as Record<string, number>)[row.outcome] = Number(row.n);
  return counts;
}

function toDelivery(row: DeliveryRow, counts: Record<string, number> | undefined) {
  const rejected = JSON.parse(row.rejected) as unknown[];
  const outcomes = counts ?? {};
  const settled = OUTCOMES.reduce((sum, outcome) => sum + (outcomes[outcome] ?? 0), 0);
  return {
    id: row.id,
    receivedAt: new Date(Number(row.received_at)).toISOString(),
    endpoint: row.endpoint,
    userAgent: row.user_agent,
    status: row.status,
    accepted: row.accepted,
    rejectedCount: row.rejected_count ?? rejected.length,
    rejected,
    outcomes: { ...outcomes, pending: Math.max(0, row.accepted - settled) },
  };
}

/** Newest first. */
export async function listDeliveries(db: Db, tenantId: number, filter: DeliveryFilter, limit: number, cursor: string | undefined) {
  const query = db<DeliveryRow>('deliveries').where({ tenant_id: tenantId });
  if (cursor !== undefined) query.where('seq', '<', decodeCursor(cursor) as RowId);
  if (filter.status !== undefined) query.where('status', filter.status);
  if (filter.from !== undefined) query.whereRaw(`${WALK_IN_ID_ORDER}received_at >= ?`, [filter.from]);
  if (filter.to !== undefined) query.whereRaw(`${WALK_IN_ID_ORDER}received_at < ?`, [filter.to]);
  const rows: DeliveryRow[] = await query.orderBy('seq', 'desc').limit(limit + 1);
  const more = rows.length > limit;
  const shown = more ? rows.slice(0, limit) : rows;
  const counts = await outcomeCounts(db, shown.map((row) => row.id));
  return { data: shown.map((row) => toDelivery(row, counts.get(row.id))), nextCursor: more ? encodeCursor(shown[shown.length - 1].seq) : null };
}

export async function getDelivery(db: Db, tenantId: number, id: string) {
  const row: DeliveryRow | undefined = await db('deliveries').where({ tenant_id: tenantId, id }).first();
  if (!row) return undefined;
  const counts = await outcomeCounts(db, [id]);
  const stored: Array<{ delivery_index: number; insert_id: string; id: number }> = await db('activities').where({ delivery_id: id }).select('delivery_index', 'insert_id', 'id');
  const others: Array<{ event_index: number; insert_id: string; outcome: string; error: string | null }> = await db('delivery_events').where({ delivery_id: id });
  const storedNotes = new Map(others.filter((event) => event.outcome === 'stored').map((event) => [event.event_index, event.error]));
  const events = [
    ...stored.map((event) => {
      const note = storedNotes.get(event.delivery_index);
      return { index: event.delivery_index, insertId: event.insert_id, outcome: 'stored', activityId: event.id, ...(typeof note === 'string' && { error: note }) };
    }),
    ...others.filter((event) => event.outcome !== 'stored').map((event) => ({ index: event.event_index, insertId: event.insert_id, outcome: event.outcome, ...(event.error !== null && { error: event.error }) })),
  ].sort((a, b) => a.index - b.index);
  return { ...toDelivery(row, counts.get(id)), events };
}
