/** Assets and projects: records of a company, found or created by externalId as activities name them. */
import type { Knex } from 'knex';
import { chunks } from './chunks';

export type OwnedTable = 'assets' | 'projects';

/** Ids by externalId; a missing record is created under the company of the first activity that names it. */
export async function findOrCreateOwned(trx: Knex.Transaction, table: OwnedTable, tenantId: number, wanted: Map<string, number | null>, now: number): Promise<Map<string, number>> {
  const ids = new Map<string, number>();
  // Sorted: concurrent transactions inserting overlapping records take their row locks in one order, never deadlocking.
  for (const chunk of chunks([...wanted.keys()].sort())) {
    await trx(table)
      .insert(chunk.map((externalId) => ({ tenant_id: tenantId, company_id: wanted.get(externalId) ?? null, external_id: externalId, name: externalId, created_at: now })))
      .onConflict(['tenant_id', 'external_id'])
      .ignore();
    const rows: Array<{ id: number; external_id: string }> = await trx(table).where({ tenant_id: tenantId }).whereIn('external_id', chunk).select('id', 'external_id');
    for (const row of rows) ids.set(row.external_id, row.id);
  }
  return ids;
}
