/** Koa routes of the admin (read) API under /api/v1, all behind ADMIN_TOKEN. */
import Router from '@koa/router';
import type { Context, Next } from 'koa';
import type { Db } from '../store/db';
import type { Logger } from '../log';
import { checkAdmin } from './adminAuth';
import { readActivities, readCompanies, readEndUsers, Query } from './readApi';
import { sendResult } from '../http/sendResult';

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
  return router;
}
