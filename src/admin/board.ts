/**
 * Bull Board at /admin/queues over every queue the daemon uses, behind the admin credential: HTTP Basic with
 * ADMIN_TOKEN as the password (any user name) or "Authorization: Bearer ADMIN_TOKEN".
 */
import type { Middleware } from 'koa';
import type { Queue } from 'bullmq';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { KoaAdapter } from '@bull-board/koa';
import { secretsEqual } from '../tenants/tokens';
import { bearerToken } from './adminAuth';

export const BOARD_PATH = '/admin/queues';

function basicPassword(authorization: string | undefined): string | undefined {
  const match = /^Basic\s+(\S+)\s*$/i.exec(authorization ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : decoded.slice(colon + 1);
}

export function boardAuthorized(adminToken: string, authorization: string | undefined): boolean {
  if (!adminToken) return false;
  const given = basicPassword(authorization) ?? bearerToken(authorization);
  return given !== undefined && secretsEqual(given, adminToken);
}

export function boardMiddleware(queues: Queue[], adminToken: string): Middleware {
  const serverAdapter = new KoaAdapter();
  serverAdapter.setBasePath(BOARD_PATH);
  createBullBoard({ queues: queues.map((queue) => new BullMQAdapter(queue)), serverAdapter });
  const board = serverAdapter.registerPlugin();
  return async (ctx, next) => {
    if (ctx.path !== BOARD_PATH && !ctx.path.startsWith(`${BOARD_PATH}/`)) return next();
    ctx.state.route = 'board';
    if (!adminToken) {
      ctx.status = 401;
      ctx.body = { error: 'the board is off: ADMIN_TOKEN is not set' };
      return;
    }
    if (!boardAuthorized(adminToken, ctx.get('authorization'))) {
      ctx.status = 401;
      ctx.set('WWW-Authenticate', 'Basic realm="activityd board", charset="UTF-8"');
      ctx.body = { error: 'the board needs HTTP Basic with ADMIN_TOKEN as the password, or Authorization: Bearer ADMIN_TOKEN' };
      return;
    }
    await board(ctx, next);
  };
}
