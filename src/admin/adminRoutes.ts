/** Koa binding of the admin API under /api/v1: every route of the table behind ADMIN_TOKEN, plus openapi.json. */
import Router from '@koa/router';
import type { Context, Next } from 'koa';
import type { Db } from '../store/db';
import type { Logger } from '../log';
import { checkAdmin } from './adminAuth';
import { ADMIN_ROUTES } from './routeTable';
import { buildOpenApi } from './openapi';
import { answerRoute, Query } from './params';
import { BodyReadError, readBody } from '../receive/readBody';
import { errorResult } from '../receive/httpResult';
import { sendResult } from '../http/sendResult';

const ADMIN_BODY_LIMIT = 8 * 1024 * 1024;

export function adminRoutes(deps: { db: Db; adminToken: string; log: Logger }): Router {
  const router = new Router({ prefix: '/api/v1' });
  router.use(async (ctx: Context, next: Next) => {
    const refusal = checkAdmin(deps.adminToken, ctx.get('authorization'));
    if (refusal) {
      deps.log.warn({ path: ctx.path, reason: refusal.reason }, 'admin request refused');
      return sendResult(ctx, refusal.result);
    }
    await next();
  });
  const openapi = buildOpenApi();
  router.get('/openapi.json', (ctx) => sendResult(ctx, { status: 200, body: openapi }));
  for (const route of ADMIN_ROUTES) {
    router[route.method](route.path, async (ctx) => {
      let body: Buffer | undefined;
      if (route.method !== 'get') {
        try {
          body = await readBody(ctx.req, ADMIN_BODY_LIMIT);
        } catch (error) {
          if (!(error instanceof BodyReadError)) throw error;
          return sendResult(ctx, errorResult(error.status, error.message));
        }
      }
      sendResult(ctx, await answerRoute(deps.db, route, { params: ctx.params, query: ctx.query as Query, body }));
    });
  }
  return router;
}
