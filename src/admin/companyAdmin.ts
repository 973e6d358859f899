/** POST /api/v1/tenants/:tenantId/companies: upserts companies with their names and domains, free of Koa. */
import type { Db } from '../store/db';
import { getTenant } from '../store/tenants';
import { addCompanyDomain } from '../store/companies';
import { takeWriteLock } from '../store/locks';
import { FREE_MAIL_DOMAINS } from '../identity/freeMailDomains';
import { parseIdentifier, parseText, describe, isPlainObject } from '../normalize/fields';
import { FieldError } from '../normalize/activityEvent';
import { errorResult, HttpResult } from '../receive/httpResult';

const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

interface CompanyInput {
  externalId: string;
  name?: string;
  domains: string[];
}

function parseCompany(raw: unknown): CompanyInput {
  if (!isPlainObject(raw)) throw new FieldError('company', `must be an object, got ${describe(raw)}`);
  const externalId = parseIdentifier('externalId', raw.externalId);
  if (externalId === undefined) throw new FieldError('externalId', 'missing');
  const domains = raw.domains ?? [];
  if (!Array.isArray(domains)) throw new FieldError('domains', `must be an array of domains, got ${describe(domains)}`);
  const clean = domains.map((domain, index) => {
    const text = typeof domain === 'string' ? domain.trim().toLowerCase() : '';
    if (!DOMAIN.test(text)) throw new FieldError(`domains[${index}]`, `"${String(domain).slice(0, 60)}" is not a domain name`);
    if (FREE_MAIL_DOMAINS.has(text)) throw new FieldError(`domains[${index}]`, `${text} is a free-mail domain and cannot identify a company`);
    return text;
  });
  return { externalId, name: parseText('name', raw.name, 1000), domains: clean };
}

export async function upsertCompaniesRequest(db: Db, tenantIdText: string, body: Buffer): Promise<HttpResult> {
  if (!/^\d{1,15}$/.test(tenantIdText)) return errorResult(400, 'tenantId: must be a tenant id (a whole number)');
  const tenantId = Number(tenantIdText);
  if (!(await getTenant(db, tenantId))) return errorResult(404, `no tenant with id ${tenantId}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (error) {
    return errorResult(400, `body is not valid JSON: ${(error as Error).message}`);
  }
  if (!Array.isArray(parsed)) return errorResult(400, `body must be a JSON array of companies, got ${describe(parsed)}`);
  const rejected: Array<{ index: number; error: string }> = [];
  const valid: CompanyInput[] = [];
  parsed.forEach((raw, index) => {
    try {
      valid.push(parseCompany(raw));
    } catch (error) {
      if (!(error instanceof FieldError)) throw error;
      rejected.push({ index, error: error.message });
    }
  });
  let created = 0;
  let updated = 0;
  const now = Date.now();
  await db.transaction(async (trx) => {
    await takeWriteLock(trx);
    for (const company of valid) {
      const existing: { id: number } | undefined = await trx('companies').where({ tenant_id: tenantId, external_id: company.externalId }).first('id');
      // On PostgreSQL (no file lock) a worker may create the same company between that read and this insert: the
      // insert then does nothing, and the company is updated as an existing one.
      const [inserted] = existing
        ? []
        : await trx('companies')
            .insert({ tenant_id: tenantId, external_id: company.externalId, name: company.name ?? company.externalId, created_at: now })
            .onConflict(['tenant_id', 'external_id'])
            .ignore()
            .returning(['id']);
      let id: number;
      if (inserted) {
        id = (inserted as { id: number }).id;
        created += 1;
      } else {
        id = existing?.id ?? ((await trx('companies').where({ tenant_id: tenantId, external_id: company.externalId }).first('id')) as { id: number }).id;
        if (company.name !== undefined) await trx('companies').where({ id }).update({ name: company.name });
        updated += 1;
      }
      for (const domain of company.domains) await addCompanyDomain(trx, tenantId, id, domain, 'admin');
    }
  });
  return { status: valid.length === 0 && rejected.length > 0 ? 400 : 200, body: { created, updated, rejected } };
}
