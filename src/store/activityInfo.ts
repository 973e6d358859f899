/**
 * How an activity's info is kept: JSON text on SQLite; jsonb on PostgreSQL, so properties can be queried in SQL.
 * jsonb cannot hold U+0000 or an unpaired surrogate, which JSON, and so info, can: such an info keeps its exact text
 * in info_text, and info (jsonb) has U+FFFD in their place. Reads prefer info_text, so info reads back as sent.
 */
import type { Dialect } from './db';

/** A JSON escape jsonb refuses (JSON.stringify writes these for U+0000 and unpaired surrogates); one pattern for JavaScript and PostgreSQL's regular expressions. */
export const JSONB_REFUSED_ESCAPE = '\\\\u(0000|[dD][89a-fA-F][0-9a-fA-F]{2})';
const REFUSED = new RegExp(JSONB_REFUSED_ESCAPE);
const REFUSED_ALL = new RegExp(JSONB_REFUSED_ESCAPE, 'g');

export interface StoredInfo {
  info: string | Record<string, unknown>;
  /** PostgreSQL only: the exact text, when jsonb could not hold it. */
  info_text?: string | null;
}

/** The info columns of a new activity. */
export function infoColumns(dialect: Dialect, info: Record<string, unknown>): StoredInfo {
  const text = JSON.stringify(info);
  if (dialect === 'sqlite') return { info: text };
  if (!REFUSED.test(text)) return { info, info_text: null };
  return { info: JSON.parse(text.replace(REFUSED_ALL, '\\ufffd')) as Record<string, unknown>, info_text: text };
}

/** info as it was sent, from a row read with its info columns. */
export function readInfo(row: StoredInfo): Record<string, unknown> {
  if (typeof row.info_text === 'string') return JSON.parse(row.info_text);
  return typeof row.info === 'string' ? JSON.parse(row.info) : row.info;
}
