/**
 * Upserts of companies (with names and domains) and of assets and projects (with names and their company): the
 * items checked, for the admin API and the CSV import, and the admin API's upsert routes. Each item is checked on
 * its own: valid ones are written (store/catalog.ts), the others refused with their index and reason.
 */
import type { Db } from '../store/db';
import { upsertItems, UpsertItem, UpsertKind, UpsertSummary } from '../store/catalog';
import { FREE_MAIL_DOMAINS } from '../identity/freeMailDomains';
import { parseIdentifier, parseText, describe, isPlainObject } from '../normalize/fields';
import { FieldError } from '../normalize/activityEvent';
import type { HttpResult } from '../http/result';
import { RequestError } from '../http/requestError';
import { AdminRequest, jsonBody, ok, withTenant } from './params';

const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

/** Most entries one upsert request may hold; more is refused whole (413). Each entry is a few statements in one transaction, which holds the write lock. */
export const MAX_UPSERT_ENTRIES = 10000;

export function parseDomains(raw: unknown): string[] {
  if (!Array.isArray(raw)) throw new FieldError('domains', `must be an array of domains, got ${describe(raw)}`);
  return raw.map((domain, index) => {
    const text = typeof domain === 'string' ? domain.trim().toLowerCase() : '';
    if (!DOMAIN.test(text)) throw new FieldError(`domains[${index}]`, `"${String(domain).slice(0, 60)}" is not a domain name`);
    if (FREE_MAIL_DOMAINS.has(text)) throw new FieldError(`domains[${index}]`, `${text} is a free-mail domain and cannot identify a company`);
    return text;
  });
}

export function parseUpsertItem(kind: UpsertKind, raw: unknown): UpsertItem {
  if (!isPlainObject(raw)) throw new FieldError('item', `must be an object, got ${describe(raw)}`);
  const externalId = parseIdentifier('externalId', raw.externalId);
  if (externalId === undefined) throw new FieldError('externalId', 'missing');
  const item: UpsertItem = { externalId, name: parseText('name', raw.name, 1000), domains: [] };
  if (kind === 'companies') item.domains = parseDomains(raw.domains ?? []);
  else item.companyExternalId = parseIdentifier('companyExternalId', raw.companyExternalId);
  return item;
}

export function upsertRequest(db: Db, kind: UpsertKind, { params, body }: AdminRequest): Promise<HttpResult> {
  return withTenant(db, params.tenantId, async (tenantId) => {
    const parsed = jsonBody(body);
    if (!Array.isArray(parsed)) throw new RequestError(`body must be a JSON array of ${kind}, got ${describe(parsed)}`);
    if (parsed.length > MAX_UPSERT_ENTRIES) {
      throw new RequestError(`body holds ${parsed.length} ${kind}, over the limit of ${MAX_UPSERT_ENTRIES} per request; send them in smaller batches`, 413);
    }
    const valid: Array<{ index: number; item: UpsertItem }> = [];
    const refused: UpsertSummary['rejected'] = [];
    parsed.forEach((raw, index) => {
      try {
        valid.push({ index, item: parseUpsertItem(kind, raw) });
      } catch (error) {
        if (!(error instanceof FieldError)) throw error;
        refused.push({ index, error: error.message });
      }
    });
    const summary = await upsertItems(db, kind, tenantId, valid);
    summary.rejected = [...refused, ...summary.rejected].sort((a, b) => a.index - b.index);
    return ok(summary, summary.created + summary.updated === 0 && summary.rejected.length > 0 ? 400 : 200);
  });
}
