/** The read API's queries: end users, activities and companies of one tenant, paged by id. */
import type { Knex } from 'knex';
import type { Db } from './db';
import { dialectOf } from './db';
import { parseProperties } from './properties';
import { readInfo, StoredInfo } from './activityInfo';

export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

/**
 * An id as read: a number, or on PostgreSQL beyond 2^53 its exact decimal text (store/db.ts readInt8). Both
 * databases compare either form with their integer ids exactly.
 */
export type RowId = number | string;

export interface PageRequest {
  limit: number;
  /** Rows with an id above this one. */
  afterId: RowId;
}

export function encodeCursor(id: RowId): string {
  return Buffer.from(`id:${id}`).toString('base64url');
}

const MAX_ID = 2n ** 63n - 1n;

/** The id a cursor stands for (any 64-bit id), or undefined when it is not one this API made. */
export function decodeCursor(cursor: string): RowId | undefined {
  const match = /^id:(\d{1,19})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match || BigInt(match[1]) > MAX_ID) return undefined;
  const id = Number(match[1]);
  return Number.isSafeInteger(id) ? id : match[1];
}

/**
 * A page stops after the row that takes its JSON past this many bytes, and gives its cursor: rows may hold up to
 * MAX_EVENT_BYTES of `info` each, and a thousand of them once made a page too long for a JavaScript string (500).
 */
export const PAGE_MAX_BYTES = 8 * 1024 * 1024;

/** Rows fetched per query while a page fills, so a page of large rows never loads more than this many at once. */
const FETCH_ROWS = 100;

async function page<Row extends { id: RowId }, T>(query: Knex.QueryBuilder, request: PageRequest, idColumn: string, map: (row: Row) => T): Promise<Page<T>> {
  const data: T[] = [];
  let bytes = 0;
  let afterId = request.afterId;
  for (;;) {
    const take = Math.min(request.limit - data.length, FETCH_ROWS);
    const rows: Row[] = await query.clone().where(idColumn, '>', afterId).orderBy(idColumn, 'asc').limit(take + 1);
    for (const [position, row] of rows.slice(0, take).entries()) {
      const item = map(row);
      data.push(item);
      afterId = row.id;
      bytes += Buffer.byteLength(JSON.stringify(item));
      const more = position + 1 < rows.length;
      if (bytes >= PAGE_MAX_BYTES) return { data, nextCursor: more ? encodeCursor(afterId) : null };
    }
    if (rows.length <= take) return { data, nextCursor: null };
    if (data.length >= request.limit) return { data, nextCursor: encodeCursor(afterId) };
  }
}

/**
 * The id of the tenant's row with this externalId, as a subquery: filtering on it (rather than on the joined row)
 * lets the planner walk the index (tenant_id, <that id>, id) in page order instead of sorting the matches.
 */
const idByExternalId = (db: Db, table: string, tenantId: number, externalId: string) => db(table).where({ tenant_id: tenantId, external_id: externalId }).select('id');

/**
 * Put before a date column in a range condition, this keeps the planner off the date's index (a unary plus is
 * SQLite's documented way, and PostgreSQL matches no index to the expression either): that index returns the range
 * in date order, so every page would sort the whole range by id. The page walks (tenant_id, id) and skips rows
 * outside the range instead.
 */
export const WALK_IN_ID_ORDER = '+';

const iso = (ms: number | string | null): string | null => (ms === null ? null : new Date(Number(ms)).toISOString());

export interface EndUserFilter {
  externalId?: string;
  email?: string;
  companyExternalId?: string;
  /** Only users with no company. */
  unassigned?: boolean;
  /** Only users whose property `name` equals the text `value` (or the number or boolean it writes). */
  property?: { name: string; value: string };
}

const DECIMAL = /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/;

/**
 * The values a property filter matches: the text as given, and the number or boolean it writes ("5" finds 5,
 * "true" finds true), since a query string carries only text and senders send either.
 */
function filterValues(value: string): Array<string | number | boolean> {
  const values: Array<string | number | boolean> = [value];
  if (DECIMAL.test(value) && Number.isFinite(Number(value))) values.push(Number(value));
  if (value === 'true' || value === 'false') values.push(value === 'true');
  return values;
}

/**
 * PostgreSQL: containment, which the GIN index end_users_properties_read serves. SQLite: the JSON of each of the
 * tenant's users is read (no index; docs/performance.md). json_each's type tells the text "5" from the number 5.
 */
function wherePropertyEquals(db: Db, query: Knex.QueryBuilder, name: string, value: string): void {
  const values = filterValues(value);
  if (dialectOf(db) === 'postgres') {
    query.where((any) => {
      for (const wanted of values) any.orWhereRaw('u.properties @> ?::jsonb', [JSON.stringify({ [name]: wanted })]);
    });
    return;
  }
  const typed = values.map((wanted) =>
    typeof wanted === 'boolean' ? `p.type = '${wanted}'` : typeof wanted === 'number' ? "(p.type IN ('integer', 'real') AND p.value = ?)" : "(p.type = 'text' AND p.value = ?)",
  );
  query.whereRaw(`EXISTS (SELECT 1 FROM json_each(u.properties) AS p WHERE p.key = ? AND (${typed.join(' OR ')}))`, [name, ...values.filter((wanted) => typeof wanted !== 'boolean')]);
}

export async function listEndUsers(db: Db, tenantId: number, filter: EndUserFilter, request: PageRequest) {
  const query = db('end_users as u')
    .leftJoin('companies as c', 'c.id', 'u.company_id')
    .where('u.tenant_id', tenantId)
    .select(
      'u.id', 'u.external_id', 'u.email', 'u.name', 'u.company_id', 'u.created_at', 'u.properties', 'c.external_id as company_external_id',
      db.raw('(SELECT COUNT(*) FROM activities a WHERE a.tenant_id = u.tenant_id AND a.end_user_id = u.id) AS activity_count'),
    );
  if (filter.externalId !== undefined) query.where('u.external_id', filter.externalId);
  if (filter.email !== undefined) query.where('u.email', filter.email);
  if (filter.companyExternalId !== undefined) query.where('u.company_id', idByExternalId(db, 'companies', tenantId, filter.companyExternalId));
  if (filter.unassigned) query.whereNull('u.company_id');
  if (filter.property !== undefined) wherePropertyEquals(db, query, filter.property.name, filter.property.value);
  return page(query, request, 'u.id', (row: Record<string, any>) => ({
    id: row.id,
    externalId: row.external_id,
    email: row.email,
    name: row.name,
    companyId: row.company_id,
    companyExternalId: row.company_external_id,
    createdAt: iso(row.created_at),
    activityCount: Number(row.activity_count),
    properties: parseProperties(row.properties),
  }));
}

export interface ActivityFilter {
  externalId?: string;
  email?: string;
  action?: string;
  companyExternalId?: string;
  assetExternalId?: string;
  projectExternalId?: string;
  /** Epoch ms, inclusive. */
  from?: number;
  /** Epoch ms, exclusive. */
  to?: number;
}

export async function listActivities(db: Db, tenantId: number, filter: ActivityFilter, request: PageRequest) {
  const query = db('activities as a')
    .join('end_users as u', 'u.id', 'a.end_user_id')
    .leftJoin('companies as c', 'c.id', 'a.company_id')
    .leftJoin('assets as s', 's.id', 'a.asset_id')
    .leftJoin('projects as p', 'p.id', 'a.project_id')
    .where('a.tenant_id', tenantId)
    .select('a.*', 'u.external_id', 'u.email', 'c.external_id as company_external_id', 's.external_id as asset_external_id', 'p.external_id as project_external_id');
  if (filter.externalId !== undefined) query.where('a.end_user_id', idByExternalId(db, 'end_users', tenantId, filter.externalId));
  if (filter.email !== undefined) {
    // Usually one person has the email: equality keeps the walk on (tenant_id, end_user_id, id) in page order; a list
    // of several people is sorted, but only their activities.
    const ids: number[] = await db('end_users').where({ tenant_id: tenantId, email: filter.email }).pluck('id');
    if (ids.length === 1) query.where('a.end_user_id', ids[0]);
    else query.whereIn('a.end_user_id', ids);
  }
  if (filter.action !== undefined) query.where('a.action', filter.action);
  if (filter.companyExternalId !== undefined) query.where('a.company_id', idByExternalId(db, 'companies', tenantId, filter.companyExternalId));
  if (filter.assetExternalId !== undefined) query.where('a.asset_id', idByExternalId(db, 'assets', tenantId, filter.assetExternalId));
  if (filter.projectExternalId !== undefined) query.where('a.project_id', idByExternalId(db, 'projects', tenantId, filter.projectExternalId));
  if (filter.from !== undefined) query.whereRaw(`${WALK_IN_ID_ORDER}a.date >= ?`, [filter.from]);
  if (filter.to !== undefined) query.whereRaw(`${WALK_IN_ID_ORDER}a.date < ?`, [filter.to]);
  return page(query, request, 'a.id', (row: Record<string, any>) => ({
    id: row.id,
    endUserId: row.end_user_id,
    externalId: row.external_id,
    email: row.email,
    companyExternalId: row.company_external_id,
    assetExternalId: row.asset_external_id,
    projectExternalId: row.project_external_id,
    action: row.action,
    date: iso(row.date),
    count: Number(row.count),
    weight: Number(row.weight),
    info: readInfo(row as StoredInfo),
    insertId: row.insert_id,
    receivedAt: iso(row.received_at),
  }));
}

export async function listCompanies(db: Db, tenantId: number, request: PageRequest) {
  // A company no event has named yet has no name stored, and reads as named by its externalId.
  const query = db('companies').where('tenant_id', tenantId).select('id', 'external_id', db.raw('COALESCE(name, external_id) AS name'), 'properties');
  const result = await page(query, request, 'id', (row: Record<string, any>) => ({ id: row.id as number, externalId: row.external_id, name: row.name, domains: [] as string[], properties: parseProperties(row.properties) }));
  // In the order of the index (tenant_id, company_id, domain): the page's domains come without a sort.
  const domains: Array<{ company_id: number; domain: string }> = await db('company_domains')
    .where('tenant_id', tenantId)
    .whereIn('company_id', result.data.map((company) => company.id))
    .orderBy(['company_id', 'domain'])
    .select('company_id', 'domain');
  for (const company of result.data) company.domains = domains.filter((row) => row.company_id === company.id).map((row) => row.domain);
  return result;
}

export async function listOwned(db: Db, table: 'assets' | 'projects', tenantId: number, request: PageRequest) {
  const query = db(`${table} as o`).leftJoin('companies as c', 'c.id', 'o.company_id').where('o.tenant_id', tenantId).select('o.id', 'o.external_id', 'o.name', 'c.external_id as company_external_id');
  return page(query, request, 'o.id', (row: Record<string, any>) => ({ id: row.id, externalId: row.external_id, name: row.name, companyExternalId: row.company_external_id }));
}

export async function listFilteredActions(db: Db, tenantId: number) {
  const rows: Array<{ action: string; count: number | string; last_seen_at: number | string }> = await db('filtered_actions').where({ tenant_id: tenantId }).orderBy('action');
  return { data: rows.map((row) => ({ action: row.action, count: Number(row.count), lastSeenAt: iso(row.last_seen_at) })) };
}
