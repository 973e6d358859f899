/**
 * A batch's property updates, applied: the rows they touch read once behind row locks, each update applied in the
 * order its event was received (identity/propertyOperations.ts), and the rows that changed written back, one
 * statement per table. An update over a limit, or an operation Amplitude would skip, leaves a note for its event's
 * delivery log entry.
 */
import type { Knex } from 'knex';
import { isDeepStrictEqual } from 'node:util';
import { applyUpdate } from '../identity/propertyOperations';
import { lockedProperties, PropertiesTable, writeProperties } from '../store/properties';

export interface PropertyUpdate {
  table: PropertiesTable;
  id: number;
  update: Record<string, unknown>;
  /** Where the update came from, for notes: "user_properties.". */
  prefix: string;
  /** The event's notes, which this adds to. */
  notes: string[];
}

/** `updates` in arrival order. */
export async function applyPropertyUpdates(trx: Knex.Transaction, updates: PropertyUpdate[]): Promise<void> {
  for (const table of ['end_users', 'companies'] as const) {
    const mine = updates.filter((update) => update.table === table);
    if (mine.length === 0) continue;
    const stored = await lockedProperties(trx, table, [...new Set(mine.map((update) => update.id))]);
    const current = new Map(stored);
    for (const { id, update, prefix, notes } of mine) {
      const result = applyUpdate(current.get(id) ?? {}, update, prefix);
      notes.push(...result.skipped, ...(result.refused === undefined ? [] : [result.refused]));
      current.set(id, result.properties);
    }
    // Amplitude sends all of a user's properties with every event: most updates change nothing, and write nothing.
    const changed = [...current].filter(([id, properties]) => !isDeepStrictEqual(properties, stored.get(id) ?? {}));
    await writeProperties(trx, table, changed.map(([id, properties]) => ({ id, properties })));
  }
}
