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

export function parseRedisUrl(raw: string): string {
  const value = raw.trim();
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`must be a redis:// or rediss:// URL, got "${raw}"`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new Error(`must be a redis:// or rediss:// URL, got "${raw}"`);
  }
  return value;
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
