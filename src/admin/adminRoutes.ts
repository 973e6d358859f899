/** Koa binding of the admin API under /api/v1: every route of the table behind the admin token, and openapi.json for anyone (it holds no secret). */
import type { Context, Middleware, Next } from 'koa';
import type { Db } from '../store/db';
import { loggablePath, Logger } from '../log';
import { checkAdmin } from './adminAuth';
import type { AdminCredential } from './adminCredential';
import { ADMIN_ROUTES } from './routeTable';
import { buildOpenApi } from './openapi';
import { answerRoute, Query } from './params';
import { readBody } from '../http/readBody';
import { RequestError } from '../http/requestError';
import { sendResult } from '../http/sendResult';
import { exactRouter, mountRoutes } from '../http/routeAccess';
import { DocumentedRoute, reply } from '../http/routeDoc';
import { Type } from '@sinclair/typebox';
import { jsonOnlyRefusal } from '../http/jsonOnly';
import type Router from '@koa/router';

const ADMIN_BODY_LIMIT = 8 * 1024 * 1024;

export const ADMIN_PREFIX = '/api/v1';

export const OPENAPI_ROUTE: DocumentedRoute = {
  method: 'get',
  path: '/openapi.json',
  access: 'public',
  doc: { summary: 'This document: every route, its parameters, body and answers', responses: { 200: reply('OpenAPI 3.1', Type.Object({ openapi: Type.Literal('3.1.0') }, { additionalProperties: true })) } },
};

export function adminGuard(credential: AdminCredential, log: Logger): Middleware {
  return async (ctx: Context, next: Next) => {
    const refusal = await checkAdmin(credential, ctx.get('authorization'));
    if (refusal) {
      log.warn({ path: loggablePath(ctx.path), reason: refusal.reason }, 'admin request refused');
      return sendResult(ctx, refusal.result);
    }
    await next();
  };
}

/** `receiverRoutes`: the other routes the receiver mounts, for openapi.json. */
export function adminRoutes(deps: { db: Db; adminCredential: AdminCredential; log: Logger; receiverRoutes: readonly DocumentedRoute[] }): Router {
  const router = exactRouter(ADMIN_PREFIX);
  const guard = adminGuard(deps.adminCredential, deps.log);
  const openapi = buildOpenApi(ADMIN_PREFIX, OPENAPI_ROUTE, deps.receiverRoutes);
  mountRoutes(router, [OPENAPI_ROUTE], guard, () => (ctx) => sendResult(ctx, { status: 200, body: openapi }));
  mountRoutes(router, ADMIN_ROUTES, guard, (route) => async (ctx) => {
    let body: Buffer | undefined;
    if (route.method !== 'get') {
      const wrongType = jsonOnlyRefusal(ctx.req);
      if (wrongType) throw new RequestError(wrongType, 415);
      body = await readBody(ctx.req, ADMIN_BODY_LIMIT, { limitName: 'the admin API\'s 8 MiB body limit' });
    }
    sendResult(ctx, await answerRoute(deps.db, route, { params: ctx.params, query: ctx.query as Query, body }));
  });
  return router;
}
