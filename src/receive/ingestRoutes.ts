/** Koa routes of the ingest API; they only translate HTTP to ingestRequest / amplitudeHttpApi and back. */
import type Router from '@koa/router';
import type { Context } from 'koa';
import { acceptEvents, authorizeTenant, IngestDeps, recordRefusal } from './ingestRequest';
import { bearerToken } from '../admin/adminAuth';
import { BodyReadError, readBody } from './readBody';
import { sendResult } from '../http/sendResult';
import { acceptHttpApiRequest, payloadTooLarge } from './amplitudeHttpApi';
import { Endpoint, startDelivery } from '../deliveries/deliveryRecord';
import { contentTypeRefusal } from './contentType';
import { queryStringRefusal } from './queryString';
import { exactRouter, mountRoutes, TableRoute } from '../http/routeAccess';

/** Every ingest route; `tenant`: each handler finds the tenant's token (path, header or body) and checks it first. */
export const INGEST_ROUTES: Array<TableRoute & { endpoint: Endpoint }> = [
  { method: 'post', path: '/2/httpapi', access: 'tenant', endpoint: 'httpapi' },
  { method: 'post', path: '/batch', access: 'tenant', endpoint: 'batch' },
  // Before /analytics/:token, which would take "bulk" for a token.
  { method: 'post', path: '/analytics/bulk', access: 'tenant', endpoint: 'analytics/bulk' },
  { method: 'post', path: '/analytics/bulk/:token', access: 'tenant', endpoint: 'analytics/bulk' },
  { method: 'post', path: '/analytics', access: 'tenant', endpoint: 'analytics' },
  { method: 'post', path: '/analytics/:token', access: 'tenant', endpoint: 'analytics' },
];

/** Reads the body; on failure sends the refusal (shaped by `refuse`) and returns undefined. */
async function bodyOrRefusal(ctx: Context, maxBodyBytes: number, refuse: (error: BodyReadError) => void): Promise<Buffer | undefined> {
  try {
    return await readBody(ctx.req, maxBodyBytes);
  } catch (error) {
    if (!(error instanceof BodyReadError)) throw error;
    // The rest of an oversized body is not read, so this connection cannot be reused.
    if (error.status === 413) ctx.set('Connection', 'close');
    refuse(error);
    return undefined;
  }
}

export function ingestRoutes(deps: IngestDeps, maxBodyBytes: number): Router {
  const router = exactRouter();

  const planhatOrAmplitude = (endpoint: Endpoint) => async (ctx: Context) => {
    const delivery = startDelivery(endpoint, ctx.get('user-agent'), Date.now());
    ctx.state.route = endpoint;
    const auth = await authorizeTenant(deps, ctx.params.token ?? bearerToken(ctx.get('authorization')), delivery);
    if ('status' in auth) return sendResult(ctx, auth);
    ctx.state.tenantId = auth.tenantId;
    const wrongType = contentTypeRefusal(ctx.get('content-type'));
    if (wrongType) return sendResult(ctx, recordRefusal(deps, auth.tenantId, delivery, { status: 415, body: { accepted: 0, rejected: [], error: wrongType } }));
    const query = queryStringRefusal(ctx.querystring);
    if (query) return sendResult(ctx, recordRefusal(deps, auth.tenantId, delivery, { status: 400, body: { accepted: 0, rejected: [], error: query } }));
    const body = await bodyOrRefusal(ctx, maxBodyBytes, (error) =>
      sendResult(ctx, recordRefusal(deps, auth.tenantId, delivery, { status: error.status, body: { accepted: 0, rejected: [], error: error.message } })),
    );
    if (body) sendResult(ctx, await acceptEvents(deps, { tenant: auth, body, bulk: endpoint === 'analytics/bulk', delivery }));
  };

  // Amplitude's HTTP V2 API carries the key in the body, so the tenant is known only after reading it.
  const httpApi = (endpoint: Endpoint) => async (ctx: Context) => {
    const delivery = startDelivery(endpoint, ctx.get('user-agent'), Date.now());
    ctx.state.route = endpoint;
    const wrongType = contentTypeRefusal(ctx.get('content-type'));
    if (wrongType) return sendResult(ctx, { status: 415, body: { code: 415, error: wrongType } });
    const query = queryStringRefusal(ctx.querystring);
    if (query) return sendResult(ctx, { status: 400, body: { code: 400, error: query } });
    const body = await bodyOrRefusal(ctx, maxBodyBytes, (error) =>
      sendResult(ctx, error.status === 413 ? payloadTooLarge() : { status: error.status, body: { code: error.status, error: error.message } }),
    );
    if (body) sendResult(ctx, await acceptHttpApiRequest(deps, body, delivery));
  };

  mountRoutes(router, INGEST_ROUTES, undefined, ({ endpoint }) => (endpoint === 'httpapi' || endpoint === 'batch' ? httpApi(endpoint) : planhatOrAmplitude(endpoint)));
  return router;
}
