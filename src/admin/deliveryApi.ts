/** The delivery log's API, free of Koa: what each ingest request was answered, and what became of its events. */
import type { Db } from '../store/db';
import { getDelivery, listDeliveries } from '../store/deliveryReads';
import type { HttpResult } from '../http/result';
import { RequestError } from '../http/requestError';
import { AdminRequest, cursorParam, dateParam, integerParam, limitParam, ok, withTenant } from './params';

export function readDeliveries(db: Db, { params, query }: AdminRequest): Promise<HttpResult> {
  return withTenant(db, params.tenantId, async (tenantId) =>
    ok(await listDeliveries(db, tenantId, { status: integerParam(query, 'status', 100, 599), from: dateParam(query, 'from'), to: dateParam(query, 'to') }, limitParam(query), cursorParam(query))),
  );
}

export function readDelivery(db: Db, { params }: AdminRequest): Promise<HttpResult> {
  return withTenant(db, params.tenantId, async (tenantId) => {
    const delivery = await getDelivery(db, tenantId, params.deliveryId);
    if (!delivery) throw new RequestError(`no delivery ${params.deliveryId.slice(0, 60)} for tenant ${tenantId}`, 404);
    return ok(delivery);
  });
}
