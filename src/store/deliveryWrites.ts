/** The delivery log's writes in SQL: request records, and the outcomes of their events. */
import type { Knex } from 'knex';
import type { Db } from './db';
import { chunks } from './chunks';
import { insertRowsSkippingConflicts, upsertRows } from './manyValues';

type Executor = Db | Knex.Transaction;

/** A request record as the deliveries table keeps it (deliveries/deliveryRecord.ts makes them). */
export interface DeliveryRecordRow {
  id: string;
  tenantId: number;
  receivedAt: number;
  endpoint: string;
  userAgent: string | null;
  status: number;
  accepted: number;
  rejected: unknown[];
  rejectedCount?: number;
}

/** stored only with a note (its error): a stored event is otherwise its activity. pruned: stored, then its activity went by ACTIVITY_RETENTION_DAYS. */
export type LoggedOutcome = 'stored' | 'duplicate' | 'filtered' | 'identified' | 'failed' | 'pruned';

export async function insertDeliveryRecords(trx: Knex.Transaction, records: DeliveryRecordRow[]): Promise<void> {
  const rows = records.map((record) => ({
    id: record.id,
    tenant_id: record.tenantId,
    received_at: record.receivedAt,
    endpoint: record.endpoint,
    user_agent: record.userAgent,
    status: record.status,
    accepted: record.accepted,
    rejected: JSON.stringify(record.rejected),
    rejected_count: record.rejectedCount ?? record.rejected.length,
  }));
  await insertRowsSkippingConflicts(trx, 'deliveries', ['id', 'tenant_id', 'received_at', 'endpoint', 'user_agent', 'status', 'accepted', 'rejected', 'rejected_count'], rows, ['id']);
}

export interface EventOutcomeRow {
  deliveryId: string;
  index: number;
  insertId: string;
  outcome: LoggedOutcome;
  error?: string;
}

/** One statement for all of them: an outcome recorded before (a retried job's "failed") is replaced. */
export async function recordEventOutcomes(db: Executor, rows: EventOutcomeRow[], now: number): Promise<void> {
  const values = rows.map((row) => ({ delivery_id: row.deliveryId, event_index: row.index, insert_id: row.insertId, outcome: row.outcome, error: row.error ?? null, at: now }));
  await upsertRows(db, 'delivery_events', ['delivery_id', 'event_index', 'insert_id', 'outcome', 'error', 'at'], values, ['delivery_id', 'event_index'], ['outcome', 'error', 'at']);
}

/** A retried job that now succeeded: its events' earlier "failed" outcomes are no longer true. */
export async function clearFailedOutcomes(db: Executor, deliveryId: string, indexes: number[]): Promise<void> {
  for (const chunk of chunks(indexes)) {
    await db('delivery_events').where({ delivery_id: deliveryId, outcome: 'failed' }).whereIn('event_index', chunk).delete();
  }
}

/** The indexes of a delivery's events that are stored as activities. */
export async function storedDeliveryIndexes(db: Executor, deliveryId: string): Promise<Set<number>> {
  const rows: Array<{ delivery_index: number }> = await db('activities').where({ delivery_id: deliveryId }).select('delivery_index');
  return new Set(rows.map((row) => row.delivery_index));
}
