/** Companies (with names and domains), assets and projects as the admin API and the CSV import upsert them. */
import type { Db } from './db';
import { addCompanyDomain } from './companies';
import { takeWriteLock } from './locks';

export type UpsertKind = 'companies' | 'assets' | 'projects';

export interface UpsertItem {
  externalId: string;
  name?: string;
  domains: string[];
  companyExternalId?: string;
}

export interface UpsertSummary {
  created: number;
  updated: number;
  rejected: Array<{ index: number; error: string }>;
}

/** Writes valid items in one transaction; an asset or project naming an unknown company is refused. */
export async function upsertItems(db: Db, kind: UpsertKind, tenantId: number, items: Array<{ index: number; item: UpsertItem }>): Promise<UpsertSummary> {
  const summary: UpsertSummary = { created: 0, updated: 0, rejected: [] };
  const now = Date.now();
  await db.transaction(async (trx) => {
    await takeWriteLock(trx);
    for (const { index, item } of items) {
      let companyId: number | null | undefined;
      if (kind !== 'companies' && item.companyExternalId !== undefined) {
        companyId = ((await trx('companies').where({ tenant_id: tenantId, external_id: item.companyExternalId }).first('id')) as { id: number } | undefined)?.id;
        if (companyId === undefined) {
          summary.rejected.push({ index, error: `companyExternalId: no company "${item.companyExternalId}"` });
          continue;
        }
      }
      const find = async () => (await trx(kind).where({ tenant_id: tenantId, external_id: item.externalId }).first('id')) as { id: number } | undefined;
      const existing = await find();
      // On PostgreSQL (no file lock) a worker may create the same record between that read and this insert: the
      // insert then does nothing, and the record is updated as an existing one.
      const row = { tenant_id: tenantId, external_id: item.externalId, name: item.name ?? item.externalId, created_at: now, ...(kind !== 'companies' && { company_id: companyId ?? null }) };
      const [inserted] = existing ? [] : ((await trx(kind).insert(row).onConflict(['tenant_id', 'external_id']).ignore().returning(['id'])) as Array<{ id: number }>);
      let id: number;
      if (inserted) {
        id = inserted.id;
        summary.created += 1;
      } else {
        id = (existing ?? ((await find()) as { id: number })).id;
        const changes = { ...(item.name !== undefined && { name: item.name }), ...(companyId !== undefined && { company_id: companyId }) };
        if (Object.keys(changes).length > 0) await trx(kind).where({ id }).update(changes);
        summary.updated += 1;
      }
      for (const domain of item.domains) await addCompanyDomain(trx, tenantId, id, domain, 'admin');
    }
  });
  summary.rejected.sort((a, b) => a.index - b.index);
  return summary;
}
