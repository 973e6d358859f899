/** Koa routes of the ingest API; they only translate HTTP to ingestRequest and back. */
import Router from '@koa/router';
import type { Context } from 'koa';
import { acceptEvents, authorizeTenant, IngestDeps } from './ingestRequest';
import { bearerToken } from '../admin/adminAuth';
import { BodyReadError, readBody } from './readBody';
import { sendResult } from '../http/sendResult';
import { acceptHttpApiRequest, payloadTooLarge } from './amplitudeHttpApi';
import { contentTypeRefusal } from './contentType';

export function ingestRoutes(deps: IngestDeps, maxBodyBytes: number): Router {
  const router = new Router();

  const handle = (bulk: boolean) => async (ctx: Context) => {
    const receivedAt = Date.now();
    const token = ctx.params.token ?? bearerToken(ctx.get('authorization'));
    ctx.state.route = bulk ? 'bulk' : 'single';
    const auth = await authorizeTenant(deps, token);
    if ('status' in auth) return sendResult(ctx, auth);
    ctx.state.tenantId = auth.tenantId;
    const wrongType = contentTypeRefusal(ctx.get('content-type'));
    if (wrongType) return sendResult(ctx, { status: 415, body: { accepted: 0, rejected: [], error: wrongType } });
    let body: Buffer;
    try {
      body = await readBody(ctx.req, maxBodyBytes);
    } catch (error) {
      if (!(error instanceof BodyReadError)) throw error;
      // The rest of an oversized body is not read, so this connection cannot be reused.
      if (error.status === 413) ctx.set('Connection', 'close');
      return sendResult(ctx, { status: error.status, body: { accepted: 0, rejected: [], error: error.message } });
    }
    sendResult(ctx, await acceptEvents(deps, { tenant: auth, body, bulk, receivedAt }));
  };

  const httpApi = async (ctx: Context) => {
    const receivedAt = Date.now();
    ctx.state.route = 'httpapi';
    const wrongType = contentTypeRefusal(ctx.get('content-type'));
    if (wrongType) return sendResult(ctx, { status: 415, body: { code: 415, error: wrongType } });
    let body: Buffer;
    try {
      body = await readBody(ctx.req, maxBodyBytes);
    } catch (error) {
      if (!(error instanceof BodyReadError)) throw error;
      if (error.status === 413) {
        ctx.set('Connection', 'close');
        return sendResult(ctx, payloadTooLarge());
      }
      return sendResult(ctx, { status: error.status, body: { code: error.status, error: error.message } });
    }
    sendResult(ctx, await acceptHttpApiRequest(deps, body, receivedAt));
  };

  router.post('/2/httpapi', httpApi);
  router.post('/batch', httpApi);
  router.post('/analytics/bulk', handle(true));
  router.post('/analytics/bulk/:token', handle(true));
  router.post('/analytics', handle(false));
  router.post('/analytics/:token', handle(false));
  return router;
}
