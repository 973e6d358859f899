/** End users in SQL, for the worker: loading the ones a batch may touch, and applying identity decisions. */
import type { Knex } from 'knex';
import { decideEndUser, KnownEndUser, KnownEndUsers, PersonRef } from '../identity/endUserRules';
import { inValues } from './manyValues';

interface EndUserRow {
  id: number;
  external_id: string | null;
  email: string | null;
  name: string | null;
  company_id: number | null;
}

function toKnownEndUser(row: EndUserRow): KnownEndUser {
  return { id: row.id, externalId: row.external_id, email: row.email, name: row.name, companyId: row.company_id };
}

export async function loadEndUsers(trx: Knex.Transaction, tenantId: number, externalIds: string[], emails: string[]): Promise<KnownEndUsers> {
  if (externalIds.length === 0 && emails.length === 0) return new KnownEndUsers();
  // A UNION, so a user found by both keys comes back once (an OR made SQLite scan all of the tenant's users). Every
  // user with one of the emails is loaded, even one found by externalId too: the rules also look for the one of
  // them without an externalId.
  const columns = ['id', 'external_id', 'email', 'name', 'company_id'];
  const rows: EndUserRow[] = await trx('end_users')
    .where({ tenant_id: tenantId })
    .whereRaw(...inValues(trx, 'external_id', externalIds))
    .select(columns)
    .union((byEmail) => byEmail.from('end_users').where({ tenant_id: tenantId }).whereRaw(...inValues(trx, 'email', emails)).select(columns));
  return new KnownEndUsers(rows.map(toKnownEndUser));
}

/**
 * Finds or creates the event's end user. An identify event (`overwrite`) replaces the name and email it gives;
 * an activity only fills in what the user lacked.
 */
export async function resolveEndUser(
  trx: Knex.Transaction,
  tenantId: number,
  known: KnownEndUsers,
  person: PersonRef,
  options: { overwrite: boolean; now: number },
): Promise<KnownEndUser> {
  const decision = decideEndUser(known, person);
  if (decision.kind === 'new') {
    const [row] = await trx('end_users')
      .insert({ tenant_id: tenantId, external_id: decision.fields.externalId, email: decision.fields.email, name: decision.fields.name, company_id: null, created_at: options.now, updated_at: options.now })
      .returning(['id', 'external_id', 'email', 'name', 'company_id']);
    const user = toKnownEndUser(row as EndUserRow);
    known.remember(user);
    return user;
  }
  const { user } = decision;
  const changes = { ...decision.changes };
  if (options.overwrite) {
    // Only a user with an externalId may change email: for the others the email is who they are.
    if (person.email !== undefined && person.email !== user.email && (user.externalId !== null || changes.externalId !== undefined)) changes.email = person.email;
    if (person.name !== undefined && person.name !== user.name) changes.name = person.name;
  }
  if (Object.keys(changes).length > 0) {
    // A field the user lacked is filled only if it is still empty in the table: on PostgreSQL another worker may
    // have reached the same user by a key we did not lock and filled it first; its value stays. An identify
    // event's email and name replace what is there.
    const fill = (column: string, value: string) => trx.raw('COALESCE(??, ?)', [column, value]);
    const set = (column: string, value: string) => (options.overwrite && column !== 'external_id' ? value : fill(column, value));
    const [row] = await trx('end_users')
      .where({ id: user.id })
      .update({
        ...(changes.externalId !== undefined && { external_id: set('external_id', changes.externalId as string) }),
        ...(changes.email !== undefined && { email: set('email', changes.email as string) }),
        ...(changes.name !== undefined && { name: set('name', changes.name as string) }),
        updated_at: options.now,
      })
      .returning(['id', 'external_id', 'email', 'name', 'company_id']);
    Object.assign(user, toKnownEndUser(row as EndUserRow));
    known.remember(user);
  }
  return user;
}

/**
 * The first company found for a user stays its primary company. The update checks the stored value, not only ours:
 * on PostgreSQL another worker may have found the same user by a key we did not lock (its email, where we came by
 * externalId) and given it a company since we read it; then that one is kept.
 */
export async function assignPrimaryCompany(trx: Knex.Transaction, user: KnownEndUser, companyId: number, now: number): Promise<void> {
  if (user.companyId !== null) return;
  const changed = await trx('end_users').where({ id: user.id }).whereNull('company_id').update({ company_id: companyId, updated_at: now });
  if (changed > 0) user.companyId = companyId;
  else user.companyId = ((await trx('end_users').where({ id: user.id }).first('company_id')) as { company_id: number | null }).company_id;
}
