/**
 * Upserts of companies, assets and projects through the admin API: HTTP in and out of upsertService. Each item is
 * checked against its schema on its own, so one bad item is refused with its index and the others are written.
 */
import type { TSchema } from '@sinclair/typebox';
import type { Db } from '../store/db';
import { describe } from '../normalize/fields';
import type { HttpResult } from '../http/result';
import { RequestError } from '../http/requestError';
import { AdminRequest, ok, withTenant } from './params';
import { upsertRecords, UpsertKind, UpsertSummary } from './upsertService';
import { MAX_UPSERT_ENTRIES } from './schemas';
import { schemaFailure } from './schemaCheck';

export function upsertRequest(db: Db, kind: UpsertKind, item: TSchema, { params, body }: AdminRequest): Promise<HttpResult> {
  return withTenant(db, params.tenantId, async (tenantId) => {
    if (!Array.isArray(body)) throw new RequestError(`body must be a JSON array of ${kind}, got ${describe(body)}`);
    if (body.length > MAX_UPSERT_ENTRIES) {
      throw new RequestError(`body holds ${body.length} ${kind}, over the limit of ${MAX_UPSERT_ENTRIES} per request; send them in smaller batches`, 413);
    }
    const refused: UpsertSummary['rejected'] = [];
    const fitting: Array<{ index: number; raw: unknown }> = [];
    body.forEach((raw, index) => {
      const failure = schemaFailure(item, raw, 'item');
      if (failure === undefined) fitting.push({ index, raw });
      else refused.push({ index, error: failure });
    });
    const written = await upsertRecords(db, kind, tenantId, fitting);
    const summary = { ...written, rejected: [...refused, ...written.rejected].sort((a, b) => a.index - b.index) };
    return ok(summary, summary.created + summary.updated === 0 && summary.rejected.length > 0 ? 400 : 200);
  });
}
