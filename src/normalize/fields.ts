/** Parsers for single event fields. Each returns the clean value (undefined when absent) or throws a FieldError. */
import { FieldError } from './activityEvent';

const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;
/** With the u flag a surrogate pair is one code point, so this matches only a lone (unpaired) surrogate. */
const LONE_SURROGATE = /[\ud800-\udfff]/u;
/** How deep an event's objects and arrays may nest: far beyond any real event, far below what JSON.stringify's recursion survives. */
export const MAX_EVENT_DEPTH = 64;
const EMAIL_SHAPE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
/** Dates must fall between 1970-01-01 and 9999-12-31 UTC. */
const LATEST_DATE_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

export function isPresent(value: unknown): boolean {
  return value !== undefined && value !== null && value !== '';
}

/** An identifier: a string or a finite number, at most `maxLength` characters, no control characters. */
export function parseIdentifier(field: string, value: unknown, maxLength = 255): string | undefined {
  if (!isPresent(value)) return undefined;
  let text: string;
  if (typeof value === 'string') text = value.trim();
  else if (typeof value === 'number' && Number.isFinite(value)) text = String(value);
  else throw new FieldError(field, `must be a string or a number, got ${describe(value)}`);
  if (text === '') return undefined;
  if (text.length > maxLength) throw new FieldError(field, `must be at most ${maxLength} characters, got ${text.length}`);
  if (CONTROL_CHARACTERS.test(text)) throw new FieldError(field, 'must not contain control characters');
  // A database column stores text as UTF-8, where a lone surrogate becomes U+FFFD: two different ids would become one.
  if (LONE_SURROGATE.test(text)) throw new FieldError(field, 'must be valid Unicode (it holds an unpaired surrogate)');
  return text;
}

export function parseText(field: string, value: unknown, maxLength: number): string | undefined {
  if (!isPresent(value)) return undefined;
  if (typeof value !== 'string') throw new FieldError(field, `must be a string, got ${describe(value)}`);
  return parseIdentifier(field, value, maxLength);
}

export function parseEmail(field: string, value: unknown): string | undefined {
  const text = parseText(field, value, 320);
  if (text === undefined) return undefined;
  if (!EMAIL_SHAPE.test(text)) throw new FieldError(field, `"${text.slice(0, 100)}" is not an email address`);
  return text.toLowerCase();
}

/**
 * A date as epoch milliseconds (number or digit string), or a date string: ISO 8601, or Amplitude's
 * "2022-02-28 20:07:01.795". A string without a zone is UTC.
 */
export function parseDate(field: string, value: unknown): number | undefined {
  if (!isPresent(value)) return undefined;
  let ms: number;
  if (typeof value === 'number') ms = value;
  else if (typeof value === 'string' && /^\d+$/.test(value.trim())) ms = Number(value.trim());
  else if (typeof value === 'string') ms = parseDateString(value.trim());
  else throw new FieldError(field, `must be a date string or epoch milliseconds, got ${describe(value)}`);
  if (!Number.isFinite(ms)) throw new FieldError(field, `"${String(value).slice(0, 40)}" is not a valid date`);
  if (ms < 0 || ms > LATEST_DATE_MS) throw new FieldError(field, 'must be between 1970-01-01 and 9999-12-31');
  return Math.floor(ms);
}

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i;

function parseDateString(text: string): number {
  const match = DATE_TIME.exec(text);
  if (!match) return NaN;
  const [, year, month, day, hour = '00', minute = '00', second = '00', fraction = '', zone] = match;
  const parts = [year, month, day, hour, minute, second].map(Number);
  const millis = Number((fraction + '000').slice(0, 3));
  const utc = Date.UTC(parts[0], parts[1] - 1, parts[2], parts[3], parts[4], parts[5], millis);
  const check = new Date(utc);
  // Date.UTC rolls 2022-02-30 over into March; such a date is invalid, not a different day.
  if (check.getUTCFullYear() !== parts[0] || check.getUTCMonth() !== parts[1] - 1 || check.getUTCDate() !== parts[2]) return NaN;
  if (parts[3] > 23 || parts[4] > 59 || parts[5] > 59) return NaN;
  return utc - zoneOffsetMs(zone);
}

function zoneOffsetMs(zone: string | undefined): number {
  if (!zone || zone.toUpperCase() === 'Z') return 0;
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  return sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4))) * 60000;
}

/** A finite number (or numeric string) within the given bounds. */
export function parseNumber(field: string, value: unknown, bounds: { min: number; max: number }): number | undefined {
  if (!isPresent(value)) return undefined;
  let number: number;
  if (typeof value === 'number') number = value;
  else if (typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value))) number = Number(value);
  else throw new FieldError(field, `must be a number, got ${describe(value)}`);
  if (!Number.isFinite(number)) throw new FieldError(field, 'must be a finite number');
  if (number < bounds.min || number > bounds.max) throw new FieldError(field, `must be between ${bounds.min} and ${bounds.max}`);
  return number;
}

export function parseObject(field: string, value: unknown): Record<string, unknown> | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isPlainObject(value)) throw new FieldError(field, `must be an object, got ${describe(value)}`);
  return value;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return 'a string';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

/** Copies own properties except the named ones, as data: a key like "__proto__" stays a plain key, never a prototype. */
export function omitKeys(source: Record<string, unknown>, keys: ReadonlySet<string>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(source).filter(([key]) => !keys.has(key)));
}

/** Whether a parsed JSON value nests objects and arrays more than `limit` levels deep; iterative, so a deep value cannot overflow the stack here. */
export function nestedDeeperThan(value: unknown, limit: number): boolean {
  const stack: Array<{ value: unknown; depth: number }> = [{ value, depth: 0 }];
  while (stack.length > 0) {
    const { value: current, depth } = stack.pop() as { value: unknown; depth: number };
    if (typeof current !== 'object' || current === null) continue;
    if (depth + 1 > limit) return true;
    for (const child of Object.values(current)) {
      if (typeof child === 'object' && child !== null) stack.push({ value: child, depth: depth + 1 });
    }
  }
  return false;
}
