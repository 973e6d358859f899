/**
 * Writes events from many queue jobs in one transaction (group commit): one identity pass per tenant, multi-row
 * activity inserts, and insertId as the guard against storing an event twice.
 */
import type { Knex } from 'knex';
import type { Db } from './db';
import type { ActivityEvent } from '../normalize/activityEvent';
import { decideEndUser, KnownEndUser, KnownEndUsers } from '../identity/endUserRules';
import { lockIdentities } from './locks';

export interface BatchEntry {
  tenantId: number;
  receivedAt: number;
  events: ActivityEvent[];
}

export type EventOutcome = 'stored' | 'duplicate';

/** Values per IN list or multi-row insert, well under SQLite's and PostgreSQL's bind-parameter limits. */
const CHUNK = 400;

function chunks<T>(items: T[], size = CHUNK): T[][] {
  const result: T[][] = [];
  for (let start = 0; start < items.length; start += size) result.push(items.slice(start, start + size));
  return result;
}

interface PendingEvent {
  entryIndex: number;
  eventIndex: number;
  receivedAt: number;
  event: ActivityEvent;
}

export async function writeBatch(db: Db, entries: BatchEntry[]): Promise<EventOutcome[][]> {
  const outcomes: EventOutcome[][] = entries.map((entry) => new Array(entry.events.length));
  const byTenant = new Map<number, PendingEvent[]>();
  entries.forEach((entry, entryIndex) => {
    const pending = byTenant.get(entry.tenantId) ?? [];
    entry.events.forEach((event, eventIndex) => pending.push({ entryIndex, eventIndex, receivedAt: entry.receivedAt, event }));
    byTenant.set(entry.tenantId, pending);
  });
  await db.transaction(async (trx) => {
    for (const tenantId of [...byTenant.keys()].sort((a, b) => a - b)) {
      await writeTenantEvents(trx, tenantId, byTenant.get(tenantId) as PendingEvent[], outcomes);
    }
  });
  return outcomes;
}

async function writeTenantEvents(trx: Knex.Transaction, tenantId: number, pending: PendingEvent[], outcomes: EventOutcome[][]): Promise<void> {
  const externalIds = new Set<string>();
  const emails = new Set<string>();
  for (const { event } of pending) {
    if (event.externalId !== undefined) externalIds.add(event.externalId);
    if (event.email !== undefined) emails.add(event.email);
  }
  await lockIdentities(trx, tenantId, [...[...externalIds].map((id) => `externalId:${id}`), ...[...emails].map((email) => `email:${email}`)]);

  const alreadyStored = await storedInsertIds(trx, tenantId, pending.map(({ event }) => event.insertId));
  const fresh: PendingEvent[] = [];
  for (const item of pending) {
    const isRepeat = alreadyStored.has(item.event.insertId);
    outcomes[item.entryIndex][item.eventIndex] = isRepeat ? 'duplicate' : 'stored';
    if (!isRepeat) {
      fresh.push(item);
      alreadyStored.add(item.event.insertId);
    }
  }
  if (fresh.length === 0) return;

  const known = new KnownEndUsers(await loadEndUsers(trx, tenantId, [...externalIds], [...emails]));
  const companyIds = await ensureCompanies(trx, tenantId, fresh.map(({ event }) => event.companyExternalId));
  const now = Date.now();
  const rows = [];
  for (const { event, receivedAt } of fresh) {
    const user = await resolveEndUser(trx, tenantId, known, event, now);
    const companyId = event.companyExternalId !== undefined ? (companyIds.get(event.companyExternalId) as number) : user.companyId;
    if (user.companyId === null && companyId !== null) {
      await trx('end_users').where({ id: user.id }).update({ company_id: companyId, updated_at: now });
      user.companyId = companyId;
    }
    rows.push({
      tenant_id: tenantId,
      end_user_id: user.id,
      company_id: companyId,
      action: event.action,
      date: event.date,
      count: event.count,
      weight: event.weight,
      info: JSON.stringify(event.info),
      insert_id: event.insertId,
      received_at: receivedAt,
    });
  }
  for (const chunk of chunks(rows, 100)) {
    await trx('activities').insert(chunk).onConflict(['tenant_id', 'insert_id']).ignore();
  }
}

async function storedInsertIds(trx: Knex.Transaction, tenantId: number, insertIds: string[]): Promise<Set<string>> {
  const found = new Set<string>();
  for (const chunk of chunks([...new Set(insertIds)])) {
    const rows: Array<{ insert_id: string }> = await trx('activities').where({ tenant_id: tenantId }).whereIn('insert_id', chunk).select('insert_id');
    for (const row of rows) found.add(row.insert_id);
  }
  return found;
}

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

async function loadEndUsers(trx: Knex.Transaction, tenantId: number, externalIds: string[], emails: string[]): Promise<KnownEndUser[]> {
  const rows: EndUserRow[] = [];
  for (const chunk of chunks(externalIds)) {
    rows.push(...(await trx('end_users').where({ tenant_id: tenantId }).whereIn('external_id', chunk)));
  }
  for (const chunk of chunks(emails)) {
    rows.push(...(await trx('end_users').where({ tenant_id: tenantId }).whereIn('email', chunk)));
  }
  return rows.map(toKnownEndUser);
}

async function resolveEndUser(trx: Knex.Transaction, tenantId: number, known: KnownEndUsers, event: ActivityEvent, now: number): Promise<KnownEndUser> {
  const decision = decideEndUser(known, event);
  if (decision.kind === 'new') {
    const [row] = await trx('end_users')
      .insert({
        tenant_id: tenantId,
        external_id: decision.fields.externalId,
        email: decision.fields.email,
        name: decision.fields.name,
        company_id: null,
        created_at: now,
        updated_at: now,
      })
      .returning(['id', 'external_id', 'email', 'name', 'company_id']);
    const user = toKnownEndUser(row as EndUserRow);
    known.remember(user);
    return user;
  }
  const { user, changes } = decision;
  if (Object.keys(changes).length > 0) {
    await trx('end_users')
      .where({ id: user.id })
      .update({
        ...(changes.externalId !== undefined && { external_id: changes.externalId }),
        ...(changes.email !== undefined && { email: changes.email }),
        ...(changes.name !== undefined && { name: changes.name }),
        updated_at: now,
      });
    Object.assign(user, changes);
    known.remember(user);
  }
  return user;
}

/** Companies by externalId, created when missing; a company another worker creates at the same moment is read back, not duplicated. */
async function ensureCompanies(trx: Knex.Transaction, tenantId: number, externalIds: Array<string | undefined>): Promise<Map<string, number>> {
  const wanted = [...new Set(externalIds.filter((id): id is string => id !== undefined))];
  const ids = new Map<string, number>();
  const now = Date.now();
  for (const chunk of chunks(wanted)) {
    await trx('companies')
      .insert(chunk.map((externalId) => ({ tenant_id: tenantId, external_id: externalId, name: externalId, created_at: now })))
      .onConflict(['tenant_id', 'external_id'])
      .ignore();
    const rows: Array<{ id: number; external_id: string }> = await trx('companies').where({ tenant_id: tenantId }).whereIn('external_id', chunk).select('id', 'external_id');
    for (const row of rows) ids.set(row.external_id, row.id);
  }
  return ids;
}
