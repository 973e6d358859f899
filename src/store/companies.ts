/** Companies for the worker: by externalId (created when the tenant allows it), by email domain, and learned domains. */
import type { Knex } from 'knex';
import { inValues, insertRowsSkippingConflicts } from './manyValues';
import { idsByExternalId } from './idsByExternalId';

export interface CompanyWanted {
  externalId: string;
  name?: string;
}

/** Ids of the wanted companies; missing ones are created when `create` is true. A company another worker creates at the same moment is read back, not duplicated. */
export async function findOrCreateCompanies(trx: Knex.Transaction, tenantId: number, wanted: CompanyWanted[], create: boolean, now: number): Promise<Map<string, number>> {
  const byExternalId = new Map(wanted.map((company) => [company.externalId, company]));
  // Sorted: concurrent transactions inserting overlapping companies take their row locks in one order, never deadlocking.
  const externalIds = [...byExternalId.keys()].sort();
  if (externalIds.length === 0) return new Map();
  if (create) {
    const rows = externalIds.map((externalId) => ({ tenant_id: tenantId, external_id: externalId, name: byExternalId.get(externalId)?.name ?? externalId, created_at: now }));
    await insertRowsSkippingConflicts(trx, 'companies', ['tenant_id', 'external_id', 'name', 'created_at'], rows, ['tenant_id', 'external_id']);
  }
  return idsByExternalId(trx, 'companies', tenantId, externalIds);
}

/** For each claimed domain, the one company that claims it, or null when two or more do (it then matches neither). */
export async function companiesByDomain(trx: Knex.Transaction, tenantId: number, domains: string[]): Promise<Map<string, number | null>> {
  const claims = new Map<string, Set<number>>();
  if (domains.length === 0) return new Map();
  const rows: Array<{ domain: string; company_id: number }> = await trx('company_domains').where({ tenant_id: tenantId }).whereRaw(...inValues(trx, 'domain', domains)).select('domain', 'company_id');
  for (const row of rows) claims.set(row.domain, (claims.get(row.domain) ?? new Set()).add(row.company_id));
  const owners = new Map<string, number | null>();
  for (const [domain, companies] of claims) owners.set(domain, companies.size === 1 ? [...companies][0] : null);
  return owners;
}

export async function addCompanyDomain(trx: Knex.Transaction, tenantId: number, companyId: number, domain: string, source: 'admin' | 'learned'): Promise<void> {
  await trx('company_domains').insert({ tenant_id: tenantId, company_id: companyId, domain, source }).onConflict(['tenant_id', 'company_id', 'domain']).ignore();
}
