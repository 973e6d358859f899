/** Parsers for single event fields. Each returns the clean value (undefined when absent) or throws a FieldError. */
import { FieldError } from './activityEvent';
import { characterCount, longerThan } from '../characterCount';

const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;
/** With the u flag a surrogate pair is one code point, so this matches only a lone (unpaired) surrogate. */
const LONE_SURROGATE = /[\ud800-\udfff]/u;
/** How deep an event's objects and arrays may nest: far beyond any real event, far below what JSON.stringify's recursion survives. */
export const MAX_EVENT_DEPTH = 64;
const EMAIL_SHAPE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
/**
 * What an email may not hold inside it: format characters (zero-width space, joiners, bidi controls, soft hyphen),
 * any space separator (no-break, thin, ideographic), and the other default-ignorable code points (variation
 * selectors, Hangul fillers) that render as nothing.
 */
const INVISIBLE_CHARACTER = /[\p{Cf}\p{Z}\p{Default_Ignorable_Code_Point}\s]/u;
/** A decimal number written as a string: JSON's number syntax (sign, digits, fraction, exponent), leading zeros allowed. */
const DECIMAL = /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/;
/** Dates must fall between 1970-01-01 and 9999-12-31 UTC. */
const LATEST_DATE_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** Blank is absent: undefined, null, and a string that is empty or only whitespace. */
export function isPresent(value: unknown): boolean {
  return value !== undefined && value !== null && !(typeof value === 'string' && value.trim() === '');
}

/**
 * An identifier: a string or a finite number, trimmed of surrounding whitespace (as String.prototype.trim: spaces,
 * tabs, line breaks, no-break and other Unicode spaces, U+FEFF), case kept; blank is absent.
 */
export function parseIdentifier(field: string, value: unknown, maxLength = 255): string | undefined {
  if (!isPresent(value)) return undefined;
  const text = identifierText(field, value).trim();
  if (text === '') return undefined;
  return checkedIdentifier(field, text, maxLength);
}

/**
 * An insert id, kept exactly as sent: no trim, case kept, so ids that differ in any character are two events (a
 * trimmed " dup-1" would be stored as a repeat of "dup-1" and lost). Absent or null: undefined, and the receiver
 * makes one; empty or only whitespace: refused, since it cannot be told from a mistake.
 */
export function parseInsertId(field: string, value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  const text = identifierText(field, value);
  if (text.trim() === '') throw new FieldError(field, 'must not be empty or only whitespace (leave it out, and the receiver makes one)');
  return checkedIdentifier(field, text, 255);
}

/**
 * A number becomes its shortest decimal text, as JavaScript writes it (42 -> "42", 1.50 -> "1.5"). JSON numbers
 * are read as doubles, so an integer past 2^53 - 1 has already lost digits (12345678901234567891 arrives as
 * 12345678901234567000, the same as its neighbours): such a number, and one only written with an exponent, is
 * refused rather than taken as another id.
 */
function identifierText(field: string, value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value !== 'number') throw new FieldError(field, `must be a string or a number, got ${describe(value)}`);
  const text = String(value);
  if (!Number.isFinite(value) || (Number.isInteger(value) && !Number.isSafeInteger(value)) || /e/i.test(text)) {
    throw new FieldError(field, `the number ${text} cannot be read exactly (numbers beyond ${Number.MAX_SAFE_INTEGER} lose digits in JSON): send this id as a string`);
  }
  return text;
}

function checkedIdentifier(field: string, text: string, maxLength: number): string {
  if (longerThan(text, maxLength)) throw new FieldError(field, `must be at most ${maxLength} characters, got ${characterCount(text)}`);
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

/** Trimmed and lower-cased; a character nobody sees would make one person two, so such an address is refused. */
export function parseEmail(field: string, value: unknown): string | undefined {
  const text = parseText(field, value, 320);
  if (text === undefined) return undefined;
  const invisible = INVISIBLE_CHARACTER.exec(text);
  if (invisible) throw new FieldError(field, `must not contain invisible, format or space characters (it holds ${codePointName(invisible[0])})`);
  if (!EMAIL_SHAPE.test(text)) throw new FieldError(field, `"${text.slice(0, 100)}" is not an email address`);
  return text.toLowerCase();
}

function codePointName(character: string): string {
  return `U+${(character.codePointAt(0) as number).toString(16).toUpperCase().padStart(4, '0')}`;
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

/**
 * A JSON number, or a string that writes one in decimal (DECIMAL, after trimming surrounding whitespace), within
 * the given bounds. Hex, binary, octal, "Infinity", "" and the like are refused: Number("0x10") is 16, which the
 * sender never meant. Absent or null: undefined.
 */
export function parseNumber(field: string, value: unknown, bounds: { min: number; max: number }): number | undefined {
  if (value === undefined || value === null) return undefined;
  let number: number;
  if (typeof value === 'number') number = value;
  else if (typeof value === 'string' && DECIMAL.test(value.trim())) number = Number(value.trim());
  else if (typeof value === 'string') throw new FieldError(field, `"${value.slice(0, 40)}" is not a number (a JSON number, or a decimal string such as "12", "-1.5" or "2e3")`);
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
