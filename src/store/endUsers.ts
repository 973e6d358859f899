/** End users in SQL, for the worker: loading the ones a batch may touch, creating and changing them. */
import type { Knex } from 'knex';
import { inValues } from './manyValues';

/** An end user as the worker's identity rules see it. */
export interface EndUserRecord {
  id: number;
  externalId: string | null;
  email: string | null;
  name: string | null;
  companyId: number | null;
}

const RECORD_COLUMNS = ['id', 'external_id', 'email', 'name', 'company_id'];

interface EndUserRow {
  id: number;
  external_id: string | null;
  email: string | null;
  name: string | null;
  company_id: number | null;
}

function toEndUserRecord(row: EndUserRow): EndUserRecord {
  return { id: row.id, externalId: row.external_id, email: row.email, name: row.name, companyId: row.company_id };
}

export async function loadEndUsers(trx: Knex.Transaction, tenantId: number, externalIds: string[], emails: string[]): Promise<EndUserRecord[]> {
  if (externalIds.length === 0 && emails.length === 0) return [];
  // A UNION, so a user found by both keys comes back once (an OR made SQLite scan all of the tenant's users). Every
  // user with one of the emails is loaded, even one found by externalId too: the rules also look for the one of
  // them without an externalId.
  const rows: EndUserRow[] = await trx('end_users')
    .where({ tenant_id: tenantId })
    .whereRaw(...inValues(trx, 'external_id', externalIds))
    .select(RECORD_COLUMNS)
    .union((byEmail) => byEmail.from('end_users').where({ tenant_id: tenantId }).whereRaw(...inValues(trx, 'email', emails)).select(RECORD_COLUMNS));
  return rows.map(toEndUserRecord);
}

/** A new end user, with no company yet. */
export async function insertEndUser(trx: Knex.Transaction, tenantId: number, fields: Pick<EndUserRecord, 'externalId' | 'email' | 'name'>, now: number): Promise<EndUserRecord> {
  const [row] = await trx('end_users')
    .insert({ tenant_id: tenantId, external_id: fields.externalId, email: fields.email, name: fields.name, company_id: null, created_at: now, updated_at: now })
    .returning(RECORD_COLUMNS);
  return toEndUserRecord(row as EndUserRow);
}

/**
 * Applies `changes` to a user and returns the row as it now is. With `overwrite` (an identify event) the email and
 * name given replace what is there; otherwise a field is only filled where it is still empty in the table.
 */
export async function updateEndUser(
  trx: Knex.Transaction,
  id: number,
  changes: Partial<Pick<EndUserRecord, 'externalId' | 'email' | 'name'>>,
  options: { overwrite: boolean; now: number },
): Promise<EndUserRecord> {
  // On PostgreSQL another worker may have reached the same user by a key we did not lock and filled a field it
  // lacked first; its value stays.
  const fill = (column: string, value: string) => trx.raw('COALESCE(??, ?)', [column, value]);
  const set = (column: string, value: string) => (options.overwrite && column !== 'external_id' ? value : fill(column, value));
  const [row] = await trx('end_users')
    .where({ id })
    .update({
      ...(changes.externalId !== undefined && { external_id: set('external_id', changes.externalId as string) }),
      ...(changes.email !== undefined && { email: set('email', changes.email as string) }),
      ...(changes.name !== undefined && { name: set('name', changes.name as string) }),
      updated_at: options.now,
    })
    .returning(RECORD_COLUMNS);
  return toEndUserRecord(row as EndUserRow);
}

/**
 * The first company found for a user stays its primary company. The update checks the stored value, not only ours:
 * on PostgreSQL another worker may have found the same user by a key we did not lock (its email, where we came by
 * externalId) and given it a company since we read it; then that one is kept.
 */
export async function assignPrimaryCompany(trx: Knex.Transaction, user: EndUserRecord, companyId: number, now: number): Promise<void> {
  if (user.companyId !== null) return;
  const changed = await trx('end_users').where({ id: user.id }).whereNull('company_id').update({ company_id: companyId, updated_at: now });
  if (changed > 0) user.companyId = companyId;
  else user.companyId = ((await trx('end_users').where({ id: user.id }).first('company_id')) as { company_id: number | null }).company_id;
}
