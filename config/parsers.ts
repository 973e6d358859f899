/** Parsers for setting values: each returns the typed value or throws an Error saying what is wrong. */
import path from 'node:path';

export function parseInteger(min: number, max: number) {
  return (raw: string): number => {
    if (!/^-?\d+$/.test(raw.trim())) throw new Error(`must be a whole number, got "${raw}"`);
    const value = Number(raw.trim());
    if (value < min || value > max) throw new Error(`must be between ${min} and ${max}, got ${value}`);
    return value;
  };
}

export function parseString(options: { allowEmpty: boolean; minLength?: number; pattern?: RegExp }) {
  return (raw: string): string => {
    const value = raw.trim();
    if (value === '') {
      if (options.allowEmpty) return value;
      throw new Error('must not be empty');
    }
    if (options.minLength !== undefined && value.length < options.minLength) {
      throw new Error(`must be at least ${options.minLength} characters`);
    }
    if (options.pattern && !options.pattern.test(value)) throw new Error(`must match ${options.pattern}`);
    return value;
  };
}

export function parseEnum<T extends string>(allowed: readonly T[]) {
  return (raw: string): T => {
    const value = raw.trim() as T;
    if (!allowed.includes(value)) throw new Error(`must be one of ${allowed.join(', ')}, got "${raw}"`);
    return value;
  };
}

/** One of `allowed`, or `unset` when the value is empty. */
export function parseOptionalEnum<T extends string, U extends string>(allowed: readonly T[], unset: U) {
  const parse = parseEnum(allowed);
  return (raw: string): T | U => (raw.trim() === '' ? unset : parse(raw));
}

export function parseBoolean(raw: string): boolean {
  const value = raw.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(value)) return true;
  if (['false', '0', 'no', 'off'].includes(value)) return false;
  throw new Error(`must be true or false, got "${raw}"`);
}

export function parseUrl(options: { allowEmpty: boolean }) {
  return (raw: string): string => {
    const value = raw.trim().replace(/\/+$/, '');
    if (value === '' && options.allowEmpty) return value;
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new Error(`must be an http(s) URL, got "${raw}"`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`must be an http(s) URL, got "${raw}"`);
    return value;
  };
}

export interface RedisNode {
  host: string;
  port: number;
}

/** Where the queue lives: one Redis (redis://, rediss://), a master found through Sentinel, or a Redis Cluster. `display` is the URL without its passwords, for messages. */
export type RedisTarget =
  | { mode: 'standalone'; url: string; display: string }
  | { mode: 'sentinel'; sentinels: RedisNode[]; name: string; username?: string; password?: string; sentinelPassword?: string; db: number; display: string }
  | { mode: 'cluster'; nodes: RedisNode[]; username?: string; password?: string; display: string };

const REDIS_FORMS = 'a redis://, rediss://, redis-sentinel://HOST:PORT,.../MASTER or redis-cluster://HOST:PORT,... URL';

/**
 * redis://[user:password@]host:port[/db] and rediss:// as ioredis reads them;
 * redis-sentinel://[[user]:password@]host:port[,host:port...]/mastername[?db=N&sentinelPassword=P] (port default 26379);
 * redis-cluster://[[user]:password@]host:port[,host:port...] (port default 6379; a cluster has only db 0).
 */
export function parseRedisUrl(raw: string): RedisTarget {
  const value = raw.trim();
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(value)?.[1].toLowerCase();
  if (scheme === 'redis-sentinel' || scheme === 'redis-cluster') return parseRedisHostList(value, scheme);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`must be ${REDIS_FORMS}, got "${redacted(value)}"`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new Error(`must be ${REDIS_FORMS}, got "${redacted(value)}"`);
  // ioredis reads a path that is not a number as db 0 after a crash of its own; say so here instead.
  if (!/^\/?(\d{1,5})?$/.test(url.pathname)) throw new Error(`db (the path) must be a whole number, as in redis://HOST:PORT/0, got "${url.pathname}"`);
  return { mode: 'standalone', url: value, display: redacted(value) };
}

function parseRedisHostList(value: string, scheme: 'redis-sentinel' | 'redis-cluster'): RedisTarget {
  const match = /^[^:]+:\/\/(?:([^@/?#]*)@)?([^/?#]*)(?:\/([^?#]*))?(?:\?([^#]*))?$/.exec(value);
  if (!match) throw new Error(`is not a valid ${scheme}:// URL`);
  const [, userinfo, hostList, pathPart = '', query = ''] = match;
  const credentials = parseUserinfo(userinfo);
  const defaultPort = scheme === 'redis-sentinel' ? 26379 : 6379;
  const nodes = hostList.split(',').map((item) => parseHostPort(item.trim(), defaultPort, scheme));
  const params = new URLSearchParams(query);
  const display = redacted(value);
  if (scheme === 'redis-cluster') {
    if (pathPart !== '') throw new Error(`redis-cluster:// takes no path (a cluster has only db 0), got "/${pathPart}"`);
    if ([...params.keys()].length > 0) throw new Error(`redis-cluster:// takes no options, got "?${query}"`);
    return { mode: 'cluster', nodes, ...credentials, display };
  }
  const name = decodeURIComponent(pathPart);
  if (name === '') throw new Error('redis-sentinel:// needs the master name as its path: redis-sentinel://HOST:PORT,HOST:PORT/MASTER');
  for (const key of params.keys()) {
    if (key !== 'db' && key !== 'sentinelPassword') throw new Error(`redis-sentinel:// option "${key}" is unknown (known: db, sentinelPassword)`);
  }
  const dbText = params.get('db') ?? '0';
  if (!/^\d{1,5}$/.test(dbText)) throw new Error(`redis-sentinel:// db must be a whole number, got "${dbText}"`);
  const sentinelPassword = params.get('sentinelPassword') ?? undefined;
  return { mode: 'sentinel', sentinels: nodes, name, db: Number(dbText), ...credentials, ...(sentinelPassword !== undefined && { sentinelPassword }), display };
}

function parseUserinfo(userinfo: string | undefined): { username?: string; password?: string } {
  if (userinfo === undefined || userinfo === '') return {};
  const colon = userinfo.indexOf(':');
  const username = decodeURIComponent(colon < 0 ? userinfo : userinfo.slice(0, colon));
  const password = colon < 0 ? undefined : decodeURIComponent(userinfo.slice(colon + 1));
  // As in redis://: "user@" alone is a username, ":secret@" a password for the default user.
  return { ...(username !== '' && { username }), ...(password !== undefined && password !== '' && { password }) };
}

function parseHostPort(item: string, defaultPort: number, scheme: string): RedisNode {
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:\[\]\s]+)(?::(\d+))?$/.exec(item);
  if (!match) throw new Error(`${scheme}:// host "${item}" is not HOST or HOST:PORT`);
  const port = match[2] === undefined ? defaultPort : Number(match[2]);
  if (port < 1 || port > 65535) throw new Error(`${scheme}:// port of "${item}" must be between 1 and 65535`);
  return { host: match[1].replace(/^\[|\]$/g, ''), port };
}

/** The URL with any password replaced by ***, safe for logs and error messages. */
function redacted(value: string): string {
  return value.replace(/^([^:]+:\/\/[^:@/]*):[^@/]*@/, '$1:***@').replace(/([?&]sentinelPassword=)[^&#]*/, '$1***');
}

export type DatabaseTarget =
  | { client: 'sqlite'; filename: string }
  | { client: 'postgres'; connectionString: string; schema: string };

/** A plain path or sqlite:// URL selects SQLite; postgres:// (or postgresql://) selects PostgreSQL, `?schema=` optional. */
export function parseDatabaseUrl(raw: string): DatabaseTarget {
  const value = raw.trim();
  if (value === '') throw new Error('must not be empty');
  if (/^postgres(ql)?:\/\//.test(value)) {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new Error(`is not a valid postgres:// URL`);
    }
    const schema = url.searchParams.get('schema') ?? 'public';
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(schema)) throw new Error(`schema "${schema}" is not a valid identifier`);
    url.searchParams.delete('schema');
    return { client: 'postgres', connectionString: url.toString(), schema };
  }
  if (value.startsWith('sqlite://')) {
    const filename = decodeURIComponent(value.slice('sqlite://'.length));
    if (filename === '') throw new Error('sqlite:// URL has no file path');
    return { client: 'sqlite', filename: path.resolve(filename) };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    throw new Error(`must be a file path, a sqlite:// URL or a postgres:// URL, got "${value.split('://')[0]}://..."`);
  }
  return { client: 'sqlite', filename: path.resolve(value) };
}

/** An AES-256 key as base64 of exactly 32 bytes, or empty (off). Never echoes the value: it is a secret. */
export function parseKey(raw: string): Buffer | undefined {
  const value = raw.trim();
  if (value === '') return undefined;
  const key = /^[A-Za-z0-9+/]+={0,2}$/.test(value) ? Buffer.from(value, 'base64') : Buffer.alloc(0);
  if (key.length !== 32) throw new Error('must be base64 of exactly 32 bytes (openssl rand -base64 32)');
  return key;
}
