/**
 * A batch's property updates, applied: the rows they touch read once behind row locks, each update applied in the
 * order its event was received (identity/propertyOperations.ts) under its arrival stamp, and the rows that changed
 * written back with their stamps, one statement per table. An update over a limit, or an operation Amplitude would skip, leaves a note for its event's
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
  /** The event's arrival stamp (process/arrivalStamp.ts): an assignment older than a key's last one changes nothing. */
  stamp: string;
}

/** `updates` in arrival order. */
export async function applyPropertyUpdates(trx: Knex.Transaction, updates: PropertyUpdate[]): Promise<void> {
  for (const table of ['end_users', 'companies'] as const) {
    const mine = updates.filter((update) => update.table === table);
    if (mine.length === 0) continue;
    const stored = await lockedProperties(trx, table, [...new Set(mine.map((update) => update.id))]);
    const current = new Map(stored);
    for (const { id, update, prefix, notes, stamp } of mine) {
      const before = current.get(id) ?? { properties: {}, stamps: { keys: {} } };
      const result = applyUpdate(before.properties, update, prefix, { stamp, stamps: before.stamps });
      notes.push(...result.skipped, ...(result.refused === undefined ? [] : [result.refused]));
      current.set(id, { properties: result.properties, stamps: result.stamps });
    }
    // An update that changes no value still moves its keys' stamps, so it is written too.
    const changed = [...current].filter(([id, now]) => !isDeepStrictEqual(now, stored.get(id)));
    await writeProperties(trx, table, changed.map(([id, now]) => ({ id, ...now })));
  }
}
