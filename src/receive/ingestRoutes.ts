/** Koa routes of the ingest API; they only translate HTTP to ingestRequest / amplitudeHttpApi / identifyApi and back. */
import type Router from '@koa/router';
import type { Context } from 'koa';
import { acceptEvents, authorizeTenant, IngestDeps, recordRefusal } from './ingestRequest';
import { bearerToken } from '../http/bearerToken';
import { BodyReadError, EarlyAnswer, OVER_BUDGET, readBody } from '../http/readBody';
import { sendResult } from '../http/sendResult';
import { acceptHttpApiRequest, amplitudeError, httpApiBodyLimit, apiKeyGate, payloadTooLarge, refuseHeaderKey } from './amplitudeHttpApi';
import { Endpoint, startDelivery } from '../deliveries/deliveryRecord';
import { contentTypeRefusal } from '../http/contentType';
import { queryStringRefusal } from './queryString';
import { exactRouter, mountRoutes } from '../http/routeAccess';
import type { DocumentedRoute } from '../http/routeDoc';
import { GROUP_IDENTIFY_DOC, HTTP_API_DOC, IDENTIFY_DOC, INGEST_DOCS } from './ingestSchemas';
import { acceptIdentifyRequest, bodyKind, declaredBodyKind } from './identifyApi';
import { createFormApiKeyScanner } from './formApiKeyScanner';
import type { IdentifyApi } from '../normalize/identification';

/** Every ingest route; `tenant`: each handler finds the tenant's token (path, header or body) and checks it first. */
export const INGEST_ROUTES: Array<DocumentedRoute & { endpoint: Endpoint }> = [
  { method: 'post', path: '/2/httpapi', access: 'tenant', endpoint: 'httpapi', doc: HTTP_API_DOC },
  { method: 'post', path: '/batch', access: 'tenant', endpoint: 'batch', doc: HTTP_API_DOC },
  { method: 'post', path: '/identify', access: 'tenant', endpoint: 'identify', doc: IDENTIFY_DOC },
  { method: 'post', path: '/groupidentify', access: 'tenant', endpoint: 'groupidentify', doc: GROUP_IDENTIFY_DOC },
  // Before /analytics/:token, which would take "bulk" for a token.
  { method: 'post', path: '/analytics/bulk', access: 'tenant', endpoint: 'analytics/bulk', doc: INGEST_DOCS.bulk },
  { method: 'post', path: '/analytics/bulk/:token', access: 'tenant', endpoint: 'analytics/bulk', doc: INGEST_DOCS.bulkInPath },
  { method: 'post', path: '/analytics', access: 'tenant', endpoint: 'analytics', doc: INGEST_DOCS.analytics },
  { method: 'post', path: '/analytics/:token', access: 'tenant', endpoint: 'analytics', doc: INGEST_DOCS.analyticsInPath },
];

/**
 * Reads the body within its limit and the process's body budget, hands it to `use`, and gives the budget back once
 * answered. A refusal while reading goes to `refuse` (shaped per API); an inspector's EarlyAnswer is sent as it is.
 */
async function withBody(
  ctx: Context,
  deps: IngestDeps,
  read: { maxBytes: number; limitName: string; inspect?: (chunk: Buffer) => Promise<void> },
  refuse: (error: BodyReadError) => void,
  use: (body: Buffer) => Promise<void>,
): Promise<void> {
  const declared = Number(ctx.get('content-length'));
  const lease = deps.bodyBudget.open(Number.isFinite(declared) ? Math.min(declared, read.maxBytes) : 0);
  if (!lease) return refuseUnread(ctx, deps, refuse, new BodyReadError(503, OVER_BUDGET));
  try {
    let body: Buffer;
    try {
      body = await readBody(ctx.req, read.maxBytes, { limitName: read.limitName, lease, inspect: read.inspect });
    } catch (error) {
      if (error instanceof EarlyAnswer) return sendResult(ctx, error.result);
      if (!(error instanceof BodyReadError)) throw error;
      return refuseUnread(ctx, deps, refuse, error);
    }
    await use(body);
  } finally {
    lease.release();
  }
}

function refuseUnread(ctx: Context, deps: IngestDeps, refuse: (error: BodyReadError) => void, error: BodyReadError): void {
  if (error.status === 503) ctx.set('Retry-After', String(deps.limits.retryAfterSeconds));
  refuse(error);
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
    await withBody(
      ctx,
      deps,
      { maxBytes: maxBodyBytes, limitName: 'MAX_BODY_BYTES' },
      (error) => sendResult(ctx, recordRefusal(deps, auth.tenantId, delivery, { status: error.status, body: { accepted: 0, rejected: [], error: error.message } })),
      async (body) => sendResult(ctx, await acceptEvents(deps, { tenant: auth, body, bulk: endpoint === 'analytics/bulk', delivery })),
    );
  };

  // Amplitude's HTTP V2 API carries the key in the body: it is checked as soon as it streams past (or first, when an
  // Authorization header carries it), so a wrong key costs little whatever follows it.
  const httpApi = (endpoint: 'httpapi' | 'batch') => async (ctx: Context) => {
    const delivery = startDelivery(endpoint, ctx.get('user-agent'), Date.now());
    ctx.state.route = endpoint;
    const wrongType = contentTypeRefusal(ctx.get('content-type'));
    if (wrongType) return sendResult(ctx, { status: 415, body: { code: 415, error: wrongType } });
    const query = queryStringRefusal(ctx.querystring);
    if (query) return sendResult(ctx, { status: 400, body: { code: 400, error: query } });
    const headerKey = bearerToken(ctx.get('authorization'));
    if (headerKey !== undefined) {
      const refusal = await refuseHeaderKey(deps, headerKey, delivery);
      if (refusal) return sendResult(ctx, refusal);
    }
    await withBody(
      ctx,
      deps,
      { ...httpApiBodyLimit(endpoint, maxBodyBytes), inspect: headerKey === undefined ? apiKeyGate(deps, delivery) : undefined },
      (error) => sendResult(ctx, error.status === 413 ? payloadTooLarge(error.message) : amplitudeError(error.status, error.message)),
      async (body) => sendResult(ctx, await acceptHttpApiRequest(deps, body, delivery, headerKey)),
    );
  };

  // Amplitude's Identify APIs: the key is in the body (a form or JSON), checked as it streams past, as above.
  const identifyApi = (endpoint: IdentifyApi) => async (ctx: Context) => {
    const delivery = startDelivery(endpoint, ctx.get('user-agent'), Date.now());
    ctx.state.route = endpoint;
    const contentType = ctx.get('content-type');
    const wrongType = contentTypeRefusal(contentType, true);
    if (wrongType) return sendResult(ctx, amplitudeError(415, wrongType));
    const query = queryStringRefusal(ctx.querystring, 'send api_key and identification in the body, as a form or JSON');
    if (query) return sendResult(ctx, amplitudeError(400, query));
    const declared = declaredBodyKind(contentType);
    const scanner = declared === 'form' ? createFormApiKeyScanner() : undefined;
    await withBody(
      ctx,
      deps,
      { ...httpApiBodyLimit(endpoint, maxBodyBytes), inspect: declared === undefined ? undefined : apiKeyGate(deps, delivery, scanner) },
      (error) => sendResult(ctx, error.status === 413 ? payloadTooLarge(error.message) : amplitudeError(error.status, error.message)),
      async (body) => sendResult(ctx, await acceptIdentifyRequest(deps, endpoint, { body, kind: bodyKind(contentType, body), delivery })),
    );
  };

  mountRoutes(router, INGEST_ROUTES, undefined, ({ endpoint }) => {
    if (endpoint === 'httpapi' || endpoint === 'batch') return httpApi(endpoint);
    if (endpoint === 'identify' || endpoint === 'groupidentify') return identifyApi(endpoint);
    return planhatOrAmplitude(endpoint);
  });
  return router;
}
