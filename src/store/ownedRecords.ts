/** Assets and projects: records of a company, found or created by externalId as activities name them. */
import type { Knex } from 'knex';
import { insertRowsSkippingConflicts } from './manyValues';
import { idsByExternalId } from './idsByExternalId';

export type OwnedTable = 'assets' | 'projects';

/** Ids by externalId; a missing record is created under the company of the first activity that names it. */
export async function findOrCreateOwned(trx: Knex.Transaction, table: OwnedTable, tenantId: number, wanted: Map<string, number | null>, now: number): Promise<Map<string, number>> {
  // Sorted: concurrent transactions inserting overlapping records take their row locks in one order, never deadlocking.
  const externalIds = [...wanted.keys()].sort();
  if (externalIds.length === 0) return new Map();
  const rows = externalIds.map((externalId) => ({ tenant_id: tenantId, company_id: wanted.get(externalId) ?? null, external_id: externalId, name: externalId, created_at: now }));
  await insertRowsSkippingConflicts(trx, table, ['tenant_id', 'company_id', 'external_id', 'name', 'created_at'], rows, ['tenant_id', 'external_id']);
  return idsByExternalId(trx, table, tenantId, externalIds);
}
