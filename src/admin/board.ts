/**
 * Bull Board at /admin/queues over every queue the daemon uses, behind the admin credential: HTTP Basic with
 * the admin token (ADMIN_TOKEN or the stored one) as the password (any user name) or "Authorization: Bearer TOKEN". Only the routes of
 * BOARD_ROUTES, spelled exactly, reach it; any other request under the board's path, in any spelling, is checked
 * for the credential and then refused.
 */
import type { Context, Middleware, Next } from 'koa';
import type { Queue } from 'bullmq';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { KoaAdapter } from '@bull-board/koa';
import { AdminCheck, AdminCredential, NO_ADMIN_TOKEN } from './adminCredential';
import { bearerToken } from '../http/bearerToken';
import { BOARD_ROUTES, unexpectedParam } from './boardRoutes';
import { exactRouter, mountRoutes } from '../http/routeAccess';
import { jsonOnlyRefusal } from '../http/jsonOnly';
import { sendResult } from '../http/sendResult';
import { errorResult } from '../http/result';

export const BOARD_PATH = '/admin/queues';

function basicPassword(authorization: string | undefined): string | undefined {
  const match = /^Basic\s+(\S+)\s*$/i.exec(authorization ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : decoded.slice(colon + 1);
}

export async function boardAuthorized(credential: AdminCredential, authorization: string | undefined): Promise<AdminCheck> {
  const given = basicPassword(authorization) ?? bearerToken(authorization);
  return given === undefined ? 'wrong' : credential.check(given);
}

function safeDecode(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

/** Whether a path names the board in any spelling a router, a proxy or a browser might treat as it: any case, percent-encoded, doubled slashes. */
export function underBoardPath(path: string): boolean {
  const canonical = safeDecode(path).toLowerCase().replace(/\/{2,}/g, '/');
  return canonical === BOARD_PATH || canonical.startsWith(`${BOARD_PATH}/`);
}

function boardGuard(credential: AdminCredential): Middleware {
  return async (ctx: Context, next: Next) => {
    const verdict = await boardAuthorized(credential, ctx.get('authorization'));
    if (verdict !== 'ok') {
      const why = verdict === 'none' ? `the board is off: ${NO_ADMIN_TOKEN}` : 'the board needs HTTP Basic with the admin token as the password, or Authorization: Bearer with the admin token';
      return sendResult(ctx, errorResult(401, why, { 'WWW-Authenticate': 'Basic realm="activityd board", charset="UTF-8"' }));
    }
    await next();
  };
}

const notOffered = (ctx: Context) =>
  sendResult(ctx, errorResult(403, `${ctx.method} ${ctx.path.slice(0, 200)} is not offered: the board shows queues and jobs, and retries and promotes jobs; it does not add, remove, clean, empty, pause or change them`));

export function boardMiddleware(queues: Queue[], credential: AdminCredential): Middleware {
  const serverAdapter = new KoaAdapter();
  serverAdapter.setBasePath(BOARD_PATH);
  createBullBoard({ queues: queues.map((queue) => new BullMQAdapter(queue)), serverAdapter, options: { uiConfig: { boardTitle: 'activityd' } } });
  const board = serverAdapter.registerPlugin();
  const guard = boardGuard(credential);
  // Full paths rather than a router prefix: the router cannot prefix the board's own root, "".
  const router = exactRouter();
  mountRoutes(router, BOARD_ROUTES.map((route) => ({ ...route, path: BOARD_PATH + route.path })), guard, (route) => async (ctx, next) => {
    if (unexpectedParam(route, ctx.params)) return notOffered(ctx);
    const wrongType = route.method === 'get' ? undefined : jsonOnlyRefusal(ctx.req);
    if (wrongType) return sendResult(ctx, errorResult(415, wrongType));
    await board(ctx, next);
  });
  const allowed = router.routes() as Middleware;
  return async (ctx, next) => {
    if (!underBoardPath(ctx.path)) return next();
    ctx.state.route = 'board';
    // Anything the allow-list does not match, as written, meets the credential check and then a refusal.
    await allowed(ctx, () => guard(ctx, async () => notOffered(ctx)));
  };
}
