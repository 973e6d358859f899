/** A tenant's companies, assets or projects by externalId: the lookup that follows each find-or-create insert. */
import type { Knex } from 'knex';
import { inValues } from './manyValues';

export type ExternalIdTable = 'companies' | 'assets' | 'projects';

export async function idsByExternalId(trx: Knex.Transaction, table: ExternalIdTable, tenantId: number, externalIds: string[]): Promise<Map<string, number>> {
  const rows: Array<{ id: number; external_id: string }> = await trx(table).where({ tenant_id: tenantId }).whereRaw(...inValues(trx, 'external_id', externalIds)).select('id', 'external_id');
  return new Map(rows.map((row) => [row.external_id, row.id]));
}
