/** Companies for the worker: by externalId (created when the tenant allows it), by email domain, and learned domains. */
import type { Knex } from 'knex';
import { inValues, insertRowsSkippingConflicts } from './manyValues';
import { idsByExternalId } from './idsByExternalId';
import { dialectOf } from './db';

export interface CompanyWanted {
  externalId: string;
  name?: string;
}

/**
 * Ids of the wanted companies (in arrival order); missing ones are created when `create` is true. A company's name is
 * the first one given: a company made without one has none (NULL, read as its externalId) until an event names it,
 * in this batch or a later one, and a name once set is never replaced by an event. A company another worker creates
 * at the same moment is read back, not duplicated.
 */
export async function findOrCreateCompanies(trx: Knex.Transaction, tenantId: number, wanted: CompanyWanted[], create: boolean, now: number): Promise<Map<string, number>> {
  const firstNames = new Map<string, string | null>();
  for (const { externalId, name } of wanted) {
    if (!firstNames.has(externalId) || (firstNames.get(externalId) === null && name !== undefined)) firstNames.set(externalId, name ?? null);
  }
  // Sorted: concurrent transactions inserting overlapping companies take their row locks in one order, never deadlocking.
  const externalIds = [...firstNames.keys()].sort();
  if (externalIds.length === 0) return new Map();
  if (create) {
    const rows = externalIds.map((externalId) => ({ tenant_id: tenantId, external_id: externalId, name: firstNames.get(externalId) ?? null, created_at: now }));
    await insertRowsSkippingConflicts(trx, 'companies', ['tenant_id', 'external_id', 'name', 'created_at'], rows, ['tenant_id', 'external_id']);
  }
  await nameUnnamedCompanies(trx, tenantId, externalIds.flatMap((externalId) => {
    const name = firstNames.get(externalId);
    return typeof name === 'string' ? [{ externalId, name }] : [];
  }));
  return idsByExternalId(trx, 'companies', tenantId, externalIds);
}

/** Gives stored companies that have no name yet the name this batch gives them first: one statement per batch. */
async function nameUnnamedCompanies(trx: Knex.Transaction, tenantId: number, named: Array<{ externalId: string; name: string }>): Promise<void> {
  if (named.length === 0) return;
  const pairs = JSON.stringify(named.map(({ externalId, name }) => [externalId, name]));
  const given = dialectOf(trx) === 'postgres'
    ? 'SELECT value ->> 0 AS external_id, value ->> 1 AS name FROM json_array_elements(?::json)'
    : 'SELECT value ->> 0 AS external_id, value ->> 1 AS name FROM json_each(?)';
  await trx.raw(
    `UPDATE companies SET name = given.name FROM (${given}) AS given WHERE companies.tenant_id = ? AND companies.external_id = given.external_id AND companies.name IS NULL`,
    [pairs, tenantId],
  );
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
