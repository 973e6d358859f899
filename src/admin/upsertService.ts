/**
 * Upserts of companies (with names and domains) and of assets and projects (with names and their company), free of
 * HTTP: the admin API and the CSV import both call upsertRecords. Each item is checked here on its own: valid ones
 * are written (store/catalog.ts), the others refused with their index and reason.
 */
import type { Db } from '../store/db';
import { upsertItems, UpsertItem, UpsertKind, UpsertSummary } from '../store/catalog';
import { FREE_MAIL_DOMAINS } from '../identity/freeMailDomains';
import { parseIdentifier, parseText, describe, isPlainObject } from '../normalize/fields';
import { FieldError } from '../normalize/activityEvent';

const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

export type { UpsertKind, UpsertSummary };

function parseDomains(raw: unknown): string[] {
  if (!Array.isArray(raw)) throw new FieldError('domains', `must be an array of domains, got ${describe(raw)}`);
  return raw.map((domain, index) => {
    const text = typeof domain === 'string' ? domain.trim().toLowerCase() : '';
    if (!DOMAIN.test(text)) throw new FieldError(`domains[${index}]`, `"${String(domain).slice(0, 60)}" is not a domain name`);
    if (FREE_MAIL_DOMAINS.has(text)) throw new FieldError(`domains[${index}]`, `${text} is a free-mail domain and cannot identify a company`);
    return text;
  });
}

function parseUpsertItem(kind: UpsertKind, raw: unknown): UpsertItem {
  if (!isPlainObject(raw)) throw new FieldError('item', `must be an object, got ${describe(raw)}`);
  const externalId = parseIdentifier('externalId', raw.externalId);
  if (externalId === undefined) throw new FieldError('externalId', 'missing');
  const item: UpsertItem = { externalId, name: parseText('name', raw.name, 1000), domains: [] };
  if (kind === 'companies') item.domains = parseDomains(raw.domains ?? []);
  else item.companyExternalId = parseIdentifier('companyExternalId', raw.companyExternalId);
  return item;
}

/** Checks each record (as sent, with its index: a position or a line number) and writes the valid ones in one transaction. */
export async function upsertRecords(db: Db, kind: UpsertKind, tenantId: number, records: Array<{ index: number; raw: unknown }>): Promise<UpsertSummary> {
  const valid: Array<{ index: number; item: UpsertItem }> = [];
  const refused: UpsertSummary['rejected'] = [];
  for (const { index, raw } of records) {
    try {
      valid.push({ index, item: parseUpsertItem(kind, raw) });
    } catch (error) {
      if (!(error instanceof FieldError)) throw error;
      refused.push({ index, error: error.message });
    }
  }
  const summary = await upsertItems(db, kind, tenantId, valid);
  return { ...summary, rejected: [...refused, ...summary.rejected].sort((a, b) => a.index - b.index) };
}
