/**
 * Many values as one bound parameter: a JSON array on SQLite (read back with json_each), an array or a JSON
 * recordset on PostgreSQL. node-sqlite3 spends the worker's main thread on each bound value, and knex more on building
 * a statement of thousands of placeholders; one parameter per list or batch of rows costs neither, and needs no
 * chunking under the databases' bind-parameter limits (docs/performance.md has the measurements).
 */
import type { Knex } from 'knex';
import { dialectOf } from './db';

/** `column IN (values)` for a where clause: `query.whereRaw(...inValues('insert_id', ids))`. */
export function inValues(trx: Knex | Knex.Transaction, column: string, values: string[] | number[]): [string, Knex.RawBinding[]] {
  if (dialectOf(trx) === 'postgres') return ['?? = ANY(?)', [column, values]];
  return ['?? IN (SELECT value FROM json_each(?))', [column, JSON.stringify(values)]];
}

/** The rows whose `conflict` columns are free, inserted; the others skipped (upsertRows with nothing to update). */
export const insertRowsSkippingConflicts = (
  trx: Knex | Knex.Transaction,
  table: string,
  columns: string[],
  rows: Array<Record<string, RowValue | undefined>>,
  conflict: string[],
): Promise<void> => upsertRows(trx, table, columns, rows, conflict, []);

/** A value of a row to insert: as JSON carries it; an object fills a jsonb column (PostgreSQL). */
export type RowValue = string | number | null | Record<string, unknown>;

/**
 * INSERT of many rows in one statement; a row whose `conflict` columns are taken replaces the `update` columns of the
 * one there, or, with no `update` columns, is skipped. Values must be strings, finite numbers, null or (for a jsonb
 * column) objects; columns take their types from the table.
 */
export async function upsertRows(
  trx: Knex | Knex.Transaction,
  table: string,
  columns: string[],
  rows: Array<Record<string, RowValue | undefined>>,
  conflict: string[],
  update: string[],
): Promise<void> {
  if (rows.length === 0) return;
  const target = conflict.map(() => '??').join(', ');
  const names = columns.map(() => '??').join(', ');
  const action = update.length === 0 ? 'DO NOTHING' : `DO UPDATE SET ${update.map(() => '?? = excluded.??').join(', ')}`;
  const updated = update.flatMap((column) => [column, column]);
  if (dialectOf(trx) === 'postgres') {
    // The table's own row type gives each JSON field its column type. jsonb, not json: the rows are parsed once, and
    // a jsonb column takes its value as parsed; json_populate_recordset parsed the text again per row and field, and
    // converting each activity's info from json to jsonb took four fifths of its insert (docs/performance.md).
    await trx.raw(`INSERT INTO ?? (${names}) SELECT ${names} FROM jsonb_populate_recordset(NULL::??, ?::jsonb) ON CONFLICT (${target}) ${action}`, [
      table, ...columns, ...columns, table, JSON.stringify(rows), ...conflict, ...updated,
    ]);
    return;
  }
  // Each row an array, not an object: less JSON to parse. jsonb_each hands each row over as binary JSON, which
  // ->> reads without parsing text again, where json_each would re-parse the row's text once per column. "WHERE
  // true" tells SQLite's parser that ON CONFLICT belongs to the INSERT, not to a join.
  const fields = columns.map((_, index) => `value ->> ${index}`).join(', ');
  await trx.raw(`INSERT INTO ?? (${names}) SELECT ${fields} FROM jsonb_each(?) WHERE true ON CONFLICT (${target}) ${action}`, [
    table, ...columns, JSON.stringify(rows.map((row) => columns.map((column) => row[column] ?? null))), ...conflict, ...updated,
  ]);
}
