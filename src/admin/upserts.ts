/** Upserts of companies, assets and projects through the admin API: HTTP in and out of upsertService. */
import type { Db } from '../store/db';
import { describe } from '../normalize/fields';
import type { HttpResult } from '../http/result';
import { RequestError } from '../http/requestError';
import { AdminRequest, jsonBody, ok, withTenant } from './params';
import { upsertRecords, UpsertKind } from './upsertService';

/** Most entries one upsert request may hold; more is refused whole (413). Each entry is a few statements in one transaction, which holds the write lock. */
export const MAX_UPSERT_ENTRIES = 10000;

export function upsertRequest(db: Db, kind: UpsertKind, { params, body }: AdminRequest): Promise<HttpResult> {
  return withTenant(db, params.tenantId, async (tenantId) => {
    const parsed = jsonBody(body);
    if (!Array.isArray(parsed)) throw new RequestError(`body must be a JSON array of ${kind}, got ${describe(parsed)}`);
    if (parsed.length > MAX_UPSERT_ENTRIES) {
      throw new RequestError(`body holds ${parsed.length} ${kind}, over the limit of ${MAX_UPSERT_ENTRIES} per request; send them in smaller batches`, 413);
    }
    const summary = await upsertRecords(db, kind, tenantId, parsed.map((raw, index) => ({ index, raw })));
    return ok(summary, summary.created + summary.updated === 0 && summary.rejected.length > 0 ? 400 : 200);
  });
}
