/** The read API, free of Koa: validates query parameters (naming the bad one) and returns pages. */
import type { Db } from '../store/db';
import { getTenant } from '../store/tenants';
import { decodeCursor, listActivities, listCompanies, listEndUsers, listFilteredActions, listOwned, PageRequest } from '../store/readQueries';
import { errorResult, HttpResult } from '../receive/httpResult';
import { parseDate, parseEmail } from '../normalize/fields';

export type Query = Record<string, string | string[] | undefined>;

class QueryError extends Error {}

const MAX_LIMIT = 1000;
const DEFAULT_LIMIT = 100;

function single(query: Query, name: string): string | undefined {
  const value = query[name];
  if (Array.isArray(value)) throw new QueryError(`${name}: give it once`);
  return value === '' ? undefined : value;
}

function pageRequest(query: Query): PageRequest {
  const limitText = single(query, 'limit');
  let limit = DEFAULT_LIMIT;
  if (limitText !== undefined) {
    if (!/^\d+$/.test(limitText) || Number(limitText) < 1 || Number(limitText) > MAX_LIMIT) {
      throw new QueryError(`limit: must be a whole number from 1 to ${MAX_LIMIT}`);
    }
    limit = Number(limitText);
  }
  const cursor = single(query, 'cursor');
  let afterId = 0;
  if (cursor !== undefined) {
    const id = decodeCursor(cursor);
    if (id === undefined) throw new QueryError('cursor: not a cursor this API returned');
    afterId = id;
  }
  return { limit, afterId };
}

function dateParam(query: Query, name: string): number | undefined {
  try {
    return parseDate(name, single(query, name));
  } catch (error) {
    throw new QueryError((error as Error).message);
  }
}

function flagParam(query: Query, name: string): boolean {
  const value = single(query, name);
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  throw new QueryError(`${name}: must be true or false`);
}

function emailParam(query: Query): string | undefined {
  try {
    return parseEmail('email', single(query, 'email'));
  } catch (error) {
    throw new QueryError((error as Error).message);
  }
}

async function withTenant(db: Db, tenantIdText: string, read: (tenantId: number) => Promise<unknown>): Promise<HttpResult> {
  if (!/^\d{1,15}$/.test(tenantIdText)) return errorResult(400, 'tenantId: must be a tenant id (a whole number)');
  const tenantId = Number(tenantIdText);
  if (!(await getTenant(db, tenantId))) return errorResult(404, `no tenant with id ${tenantId}`);
  try {
    return { status: 200, body: await read(tenantId) };
  } catch (error) {
    if (error instanceof QueryError) return errorResult(400, error.message);
    throw error;
  }
}

export function readEndUsers(db: Db, tenantIdText: string, query: Query): Promise<HttpResult> {
  return withTenant(db, tenantIdText, (tenantId) =>
    listEndUsers(
      db,
      tenantId,
      { externalId: single(query, 'externalId'), email: emailParam(query), companyExternalId: single(query, 'companyExternalId'), unassigned: flagParam(query, 'unassigned') },
      pageRequest(query),
    ),
  );
}

export function readActivities(db: Db, tenantIdText: string, query: Query): Promise<HttpResult> {
  return withTenant(db, tenantIdText, (tenantId) =>
    listActivities(
      db,
      tenantId,
      {
        externalId: single(query, 'externalId'),
        email: emailParam(query),
        action: single(query, 'action'),
        companyExternalId: single(query, 'companyExternalId'),
        assetExternalId: single(query, 'assetExternalId'),
        projectExternalId: single(query, 'projectExternalId'),
        from: dateParam(query, 'from'),
        to: dateParam(query, 'to'),
      },
      pageRequest(query),
    ),
  );
}

export function readCompanies(db: Db, tenantIdText: string, query: Query): Promise<HttpResult> {
  return withTenant(db, tenantIdText, (tenantId) => listCompanies(db, tenantId, pageRequest(query)));
}

export function readOwned(db: Db, table: 'assets' | 'projects', tenantIdText: string, query: Query): Promise<HttpResult> {
  return withTenant(db, tenantIdText, (tenantId) => listOwned(db, table, tenantId, pageRequest(query)));
}

export function readFilteredActions(db: Db, tenantIdText: string): Promise<HttpResult> {
  return withTenant(db, tenantIdText, (tenantId) => listFilteredActions(db, tenantId));
}
