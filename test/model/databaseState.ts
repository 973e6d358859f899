/**
 * Reads a tenant's state from the database with plain SQL, canonicalised like the reference model's, and checks
 * the invariants that hold whatever the order of the events.
 */
import type { Knex } from 'knex';
import { CanonicalState, userKey } from './canonicalState';

export async function readDatabaseState(db: Knex, tenantId: number): Promise<CanonicalState> {
  const companyRows: Array<{ id: number; external_id: string; name: string | null }> = await db('companies').where({ tenant_id: tenantId }).select('id', 'external_id', 'name');
  const companyById = new Map(companyRows.map((row) => [Number(row.id), row.external_id]));
  const companyOf = (id: number | null) => (id === null ? null : (companyById.get(Number(id)) ?? `?company ${id}`));
  const domainRows: Array<{ company_id: number; domain: string }> = await db('company_domains').where({ tenant_id: tenantId }).select('company_id', 'domain');
  const userRows: Array<{ id: number; external_id: string | null; email: string | null; name: string | null; company_id: number | null }> = await db('end_users')
    .where({ tenant_id: tenantId })
    .select('id', 'external_id', 'email', 'name', 'company_id');
  const userById = new Map(userRows.map((row) => [Number(row.id), userKey({ externalId: row.external_id, email: row.email })]));
  const owned = (table: 'assets' | 'projects'): Promise<Array<{ id: number; external_id: string; company_id: number | null }>> =>
    db(table).where({ tenant_id: tenantId }).select('id', 'external_id', 'company_id');
  const assetRows = await owned('assets');
  const projectRows = await owned('projects');
  const externalIdOf = (rows: Array<{ id: number; external_id: string }>) => {
    const byId = new Map(rows.map((row) => [Number(row.id), row.external_id]));
    return (id: number | null) => (id === null ? null : (byId.get(Number(id)) ?? `?${id}`));
  };
  const assetOf = externalIdOf(assetRows);
  const projectOf = externalIdOf(projectRows);
  const activityRows: Array<{ insert_id: string; end_user_id: number; company_id: number | null; asset_id: number | null; project_id: number | null }> = await db('activities')
    .where({ tenant_id: tenantId })
    .select('insert_id', 'end_user_id', 'company_id', 'asset_id', 'project_id');

  return {
    users: Object.fromEntries(userRows.map((row) => [userKey({ externalId: row.external_id, email: row.email }), { externalId: row.external_id, email: row.email, name: row.name, company: companyOf(row.company_id) }])),
    companies: Object.fromEntries(
      companyRows.map((row) => [
        row.external_id,
        {
          name: row.name ?? row.external_id,
          domains: domainRows.filter((domain) => Number(domain.company_id) === Number(row.id)).map((domain) => domain.domain).sort(),
        },
      ]),
    ),
    activities: Object.fromEntries(
      activityRows.map((row) => [
        row.insert_id,
        { user: userById.get(Number(row.end_user_id)) ?? `?user ${row.end_user_id}`, company: companyOf(row.company_id), asset: assetOf(row.asset_id), project: projectOf(row.project_id) },
      ]),
    ),
    assets: Object.fromEntries(assetRows.map((row) => [row.external_id, companyOf(row.company_id)])),
    projects: Object.fromEntries(projectRows.map((row) => [row.external_id, companyOf(row.company_id)])),
  };
}

/** Groups of rows that should be one, as `what: value (n rows)` lines. */
async function duplicates(what: string, query: Knex.QueryBuilder, column: string): Promise<string[]> {
  const rows: Array<Record<string, unknown>> = await query.groupBy(column).select(column).count({ n: '*' }).havingRaw('count(*) > 1');
  return rows.map((row) => `${what}: ${JSON.stringify(row[column])} (${row.n} rows)`);
}

/**
 * Every invariant that no order of events may break: one user per externalId, one email-only user per email, one
 * activity per insert id, and exactly the insert ids that had to be stored. Returns each violation.
 */
export async function invariantViolations(db: Knex, tenantId: number, mustStore: Set<string>): Promise<string[]> {
  const violations = [
    ...(await duplicates('two users with one externalId', db('end_users').where({ tenant_id: tenantId }).whereNotNull('external_id'), 'external_id')),
    ...(await duplicates('two email-only users with one email', db('end_users').where({ tenant_id: tenantId }).whereNull('external_id'), 'email')),
    ...(await duplicates('two activities with one insert id', db('activities').where({ tenant_id: tenantId }), 'insert_id')),
  ];
  const stored: Array<{ insert_id: string }> = await db('activities').where({ tenant_id: tenantId }).select('insert_id');
  const storedIds = new Set(stored.map((row) => row.insert_id));
  const missing = [...mustStore].filter((id) => !storedIds.has(id));
  const extra = [...storedIds].filter((id) => !mustStore.has(id));
  if (missing.length > 0) violations.push(`accepted but not stored (${missing.length}): ${missing.slice(0, 5).map((id) => JSON.stringify(id)).join(', ')}`);
  if (extra.length > 0) violations.push(`stored but never sent (${extra.length}): ${extra.slice(0, 5).map((id) => JSON.stringify(id)).join(', ')}`);
  if (stored.length !== mustStore.size) violations.push(`${stored.length} activities for ${mustStore.size} distinct accepted insert ids`);
  return violations;
}
