/** Koa routes of the admin (read) API under /api/v1, all behind ADMIN_TOKEN. */
import Router from '@koa/router';
import type { Context, Next } from 'koa';
import type { Db } from '../store/db';
import type { Logger } from '../log';
import { checkAdmin } from './adminAuth';
import { readActivities, readCompanies, readEndUsers, readFilteredActions, readOwned, Query } from './readApi';
import { upsertCompaniesRequest } from './companyAdmin';
import { BodyReadError, readBody } from '../receive/readBody';
import { errorResult } from '../receive/httpResult';
import { sendResult } from '../http/sendResult';

const ADMIN_BODY_LIMIT = 8 * 1024 * 1024;

export function adminRoutes(db: Db, adminToken: string, log: Logger): Router {
  const router = new Router({ prefix: '/api/v1' });
  router.use(async (ctx: Context, next: Next) => {
    const refusal = checkAdmin(adminToken, ctx.get('authorization'));
    if (refusal) {
      log.warn({ path: ctx.path, reason: refusal.reason }, 'admin request refused');
      return sendResult(ctx, refusal.result);
    }
    await next();
  });
  router.get('/tenants/:tenantId/endusers', async (ctx) => sendResult(ctx, await readEndUsers(db, ctx.params.tenantId, ctx.query as Query)));
  router.get('/tenants/:tenantId/activities', async (ctx) => sendResult(ctx, await readActivities(db, ctx.params.tenantId, ctx.query as Query)));
  router.get('/tenants/:tenantId/companies', async (ctx) => sendResult(ctx, await readCompanies(db, ctx.params.tenantId, ctx.query as Query)));
  router.post('/tenants/:tenantId/companies', async (ctx) => {
    let body: Buffer;
    try {
      body = await readBody(ctx.req, ADMIN_BODY_LIMIT);
    } catch (error) {
      if (!(error instanceof BodyReadError)) throw error;
      return sendResult(ctx, errorResult(error.status, error.message));
    }
    sendResult(ctx, await upsertCompaniesRequest(db, ctx.params.tenantId, body));
  });
  router.get('/tenants/:tenantId/assets', async (ctx) => sendResult(ctx, await readOwned(db, 'assets', ctx.params.tenantId, ctx.query as Query)));
  router.get('/tenants/:tenantId/projects', async (ctx) => sendResult(ctx, await readOwned(db, 'projects', ctx.params.tenantId, ctx.query as Query)));
  router.get('/tenants/:tenantId/filtered-actions', async (ctx) => sendResult(ctx, await readFilteredActions(db, ctx.params.tenantId)));
  return router;
}
