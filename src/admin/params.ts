/** Request parsing for the admin API, free of Koa: each bad parameter or body field becomes a 400 naming it. */
import type { Db } from '../store/db';
import { getTenant } from '../store/tenants';
import { decodeCursor, PageRequest, RowId } from '../store/readQueries';
import type { HttpResult } from '../http/result';
import { RequestError } from '../http/requestError';
import { parseDate, parseEmail } from '../normalize/fields';
import type { AdminRoute } from './routeTable';
import { checkBody } from './schemaCheck';
import { characterCount } from '../characterCount';

export type Query = Record<string, string | string[] | undefined>;

export interface AdminRequest {
  params: Record<string, string>;
  query: Query;
  /** The parsed JSON body of a POST or PATCH, already checked against the route's body schema unless the route checks it itself. */
  body?: unknown;
}

export const MAX_LIMIT = 1000;
export const DEFAULT_LIMIT = 100;

/**
 * Refuses any query parameter the route does not list (a misspelt or bracketed filter such as `externalId[]` would
 * otherwise be ignored, and the unfiltered list would show other people's rows), and any given twice or empty.
 */
/** A parameter's name as a caller writes it: the property filter is property.NAME (or property[NAME]). */
const spelled = (name: string) => (name === PROPERTY_FILTER ? 'property.NAME' : name);

export function checkQueryNames(query: Query, allowed: readonly string[] = []): void {
  for (const [name, value] of Object.entries(query)) {
    if (!allowed.includes(name) && !(allowed.includes(PROPERTY_FILTER) && propertyName(name) !== undefined)) {
      throw new RequestError(`${name.slice(0, 60)}: not a query parameter of this route (${allowed.length > 0 ? `it takes ${allowed.map(spelled).join(', ')}` : 'it takes none'})`);
    }
    if (Array.isArray(value)) throw new RequestError(`${name}: give it once`);
    if (value === '') throw new RequestError(`${name}: empty; leave the parameter out instead`);
  }
}

/** Answers one admin route: its query parameters checked against the route table, its body against its schema, then its handler. */
export function answerRoute(db: Db, route: AdminRoute, request: Omit<AdminRequest, 'body'> & { body?: Buffer }): Promise<HttpResult> {
  checkQueryNames(request.query, route.query);
  if (!route.body) return route.handle(db, { params: request.params, query: request.query });
  const body = jsonBody(request.body);
  return route.handle(db, { params: request.params, query: request.query, body: route.checksItsBody ? body : checkBody(route.body, body) });
}

const PROPERTY_PREFIX = 'property.';
/**
 * A route's query names list this to take one filter on a property: `property.plan=Enterprise`, or
 * `property[plan]=Enterprise`, the spelling OpenAPI's deepObject style gives generated clients (OpenAPI has no
 * parameter whose name is a pattern, so the document describes this one as an object named `property`).
 */
export const PROPERTY_FILTER = 'property';
const MAX_PROPERTY_NAME = 255;

/** The property a query parameter's name filters on, in either spelling, or undefined when it names none. */
function propertyName(key: string): string | undefined {
  if (key.startsWith(PROPERTY_PREFIX)) return key.slice(PROPERTY_PREFIX.length);
  return /^property\[(.*)\]$/s.exec(key)?.[1];
}

/** The one `property.NAME=VALUE` parameter, if given; the name is checked as a property name (1 to 255 characters, no control characters). */
export function propertyParam(query: Query): { name: string; value: string } | undefined {
  const given = Object.keys(query).filter((key) => propertyName(key) !== undefined);
  if (given.length === 0) return undefined;
  if (given.length > 1) throw new RequestError(`${given.map((key) => key.slice(0, 60)).join(', ')}: filter on one property at a time`);
  const [key] = given;
  const name = propertyName(key) as string;
  if (name === '') throw new RequestError(`${key}: name the property (property.plan=Enterprise or property[plan]=Enterprise)`);
  if (characterCount(name) > MAX_PROPERTY_NAME) throw new RequestError(`${key.slice(0, 60)}: a property name is at most ${MAX_PROPERTY_NAME} characters`);
  if (/[\u0000-\u001f\u007f]/.test(name)) throw new RequestError(`${PROPERTY_FILTER}: the property name must not contain control characters`);
  return { name, value: single(query, key) as string };
}

export function single(query: Query, name: string): string | undefined {
  const value = query[name];
  if (Array.isArray(value)) throw new RequestError(`${name}: give it once`);
  return value === '' ? undefined : value;
}

export function limitParam(query: Query): number {
  const limitText = single(query, 'limit');
  if (limitText === undefined) return DEFAULT_LIMIT;
  if (!/^\d+$/.test(limitText) || Number(limitText) < 1 || Number(limitText) > MAX_LIMIT) {
    throw new RequestError(`limit: must be a whole number from 1 to ${MAX_LIMIT}`);
  }
  return Number(limitText);
}

export function cursorParam(query: Query): string | undefined {
  const cursor = single(query, 'cursor');
  if (cursor !== undefined && decodeCursor(cursor) === undefined) throw new RequestError('cursor: not a cursor this API returned');
  return cursor;
}

export function pageRequest(query: Query): PageRequest {
  const cursor = cursorParam(query);
  return { limit: limitParam(query), afterId: cursor === undefined ? 0 : (decodeCursor(cursor) as RowId) };
}

function asRequestError<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    throw new RequestError((error as Error).message);
  }
}

export const dateParam = (query: Query, name: string) => asRequestError(() => parseDate(name, single(query, name)));
export const emailParam = (query: Query) => asRequestError(() => parseEmail('email', single(query, 'email')));

export function flagParam(query: Query, name: string): boolean {
  const value = single(query, name);
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  throw new RequestError(`${name}: must be true or false`);
}

export function integerParam(query: Query, name: string, min: number, max: number): number | undefined {
  const value = single(query, name);
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) throw new RequestError(`${name}: must be a whole number from ${min} to ${max}`);
  return Number(value);
}

function jsonBody(body: Buffer | undefined): unknown {
  try {
    return JSON.parse((body ?? Buffer.alloc(0)).toString('utf8'));
  } catch (error) {
    throw new RequestError(`body is not valid JSON: ${(error as Error).message}`);
  }
}

export function tenantIdParam(text: string): number {
  if (!/^\d{1,15}$/.test(text)) throw new RequestError('tenantId: must be a tenant id (a whole number)');
  return Number(text);
}

/** Runs `work` for an existing tenant. */
export async function withTenant(db: Db, tenantIdText: string, work: (tenantId: number) => Promise<HttpResult>): Promise<HttpResult> {
  const tenantId = tenantIdParam(tenantIdText);
  if (!(await getTenant(db, tenantId))) throw new RequestError(`no tenant with id ${tenantId}`, 404);
  return work(tenantId);
}

export const ok = (body: unknown, status = 200): HttpResult => ({ status, body });
