/**
 * The current properties of end users and companies in SQL, for the worker: read behind row locks, written back in
 * one statement per table and batch; and the insert ids of identify events already applied.
 */
import type { Knex } from 'knex';
import { dialectOf, Db } from './db';
import { inValues, insertRowsSkippingConflicts } from './manyValues';
import { deleteInBatches } from './batchedDelete';

export type PropertiesTable = 'end_users' | 'companies';

/** jsonb arrives parsed from PostgreSQL, JSON text from SQLite. */
export function parseProperties(stored: unknown): Record<string, unknown> {
  return typeof stored === 'string' ? (JSON.parse(stored) as Record<string, unknown>) : (stored as Record<string, unknown>);
}

/** Arrival stamps (text that sorts in arrival order) of the last assignment of each key, and of the last $clearAll. */
export interface PropertyStamps {
  keys: Record<string, string>;
  cleared?: string;
}

/** A row's properties and the arrival stamps of their last assignments. */
export interface StoredProperties {
  properties: Record<string, unknown>;
  stamps: PropertyStamps;
}

/** Rows stamped before the stamps existed hold {}: no key has a stamp yet. */
function parseStamps(stored: unknown): PropertyStamps {
  const parsed = parseProperties(stored) as Partial<PropertyStamps>;
  return { keys: parsed.keys ?? {}, ...(parsed.cleared !== undefined && { cleared: parsed.cleared }) };
}

/**
 * The stored properties of these rows, locked until the transaction ends (FOR UPDATE on PostgreSQL; SQLite's one
 * writer already holds the file): another worker updating one of them waits, then reads what this one wrote.
 */
export async function lockedProperties(trx: Knex.Transaction, table: PropertiesTable, ids: number[]): Promise<Map<number, StoredProperties>> {
  if (ids.length === 0) return new Map();
  // In id order, so two batches locking overlapping rows take them in one order.
  const query = trx(table).whereRaw(...inValues(trx, 'id', [...ids].sort((a, b) => a - b))).orderBy('id').select('id', 'properties', 'property_stamps');
  if (dialectOf(trx) === 'postgres') query.forUpdate();
  const rows: Array<{ id: number; properties: unknown; property_stamps: unknown }> = await query;
  return new Map(rows.map((row) => [row.id, { properties: parseProperties(row.properties), stamps: parseStamps(row.property_stamps) }]));
}

/** Writes each row's new properties and stamps: one statement for all of them. */
export async function writeProperties(trx: Knex.Transaction, table: PropertiesTable, rows: Array<{ id: number } & StoredProperties>): Promise<void> {
  if (rows.length === 0) return;
  const triples = JSON.stringify(rows.map(({ id, properties, stamps }) => [id, properties, stamps]));
  if (dialectOf(trx) === 'postgres') {
    await trx.raw('UPDATE ?? AS t SET properties = given.value -> 1, property_stamps = given.value -> 2 FROM (SELECT value FROM jsonb_array_elements(?::jsonb)) AS given WHERE t.id = (given.value ->> 0)::bigint', [table, triples]);
  } else {
    await trx.raw(
      "UPDATE ?? SET properties = given.properties, property_stamps = given.stamps FROM (SELECT value ->> 0 AS id, value -> '$[1]' AS properties, value -> '$[2]' AS stamps FROM json_each(?)) AS given WHERE ??.id = given.id",
      [table, triples, table],
    );
  }
}

/** Which of these insert ids of identify events were applied before. */
export async function appliedInsertIds(trx: Knex.Transaction, tenantId: number, insertIds: string[]): Promise<Set<string>> {
  if (insertIds.length === 0) return new Set();
  const rows: Array<{ insert_id: string }> = await trx('applied_updates').where({ tenant_id: tenantId }).whereRaw(...inValues(trx, 'insert_id', insertIds)).select('insert_id');
  return new Set(rows.map((row) => row.insert_id));
}

export async function rememberApplied(trx: Knex.Transaction, tenantId: number, insertIds: string[], now: number): Promise<void> {
  const rows = insertIds.map((insertId) => ({ tenant_id: tenantId, insert_id: insertId, applied_at: now }));
  await insertRowsSkippingConflicts(trx, 'applied_updates', ['tenant_id', 'insert_id', 'applied_at'], rows, ['tenant_id', 'insert_id']);
}

/** Forgets identify insert ids applied before `cutoff`, in batches: a redelivery after that applies again. Returns how many went. */
export function pruneAppliedUpdates(db: Db, cutoff: number, stopped?: () => boolean): Promise<number> {
  return deleteInBatches<[number, string]>(
    db,
    {
      select: async (from, limit) =>
        (await from('applied_updates').where('applied_at', '<', cutoff).limit(limit).select('tenant_id', 'insert_id')).map((row: { tenant_id: number; insert_id: string }) => [row.tenant_id, row.insert_id]),
      async remove(trx, keys) {
        await trx('applied_updates').whereIn(['tenant_id', 'insert_id'], keys).delete();
      },
    },
    { size: 500, pauseMs: 10, stopped },
  );
}
