/** The receiver's Koa app: one error boundary, ingest, the admin API, the board, and health and metrics. */
import Koa from 'koa';
import type { Queue } from 'bullmq';
import type { RedisClient } from '../queue/redis';
import type { Registry } from 'prom-client';
import type { Db } from '../store/db';
import { loggablePath, Logger } from '../log';
import { ingestRoutes } from '../receive/ingestRoutes';
import { adminRoutes } from '../admin/adminRoutes';
import { boardMiddleware } from '../admin/board';
import { opsRoutes } from '../http/opsRoutes';
import { checkReadiness } from './readiness';
import type { IngestDeps } from '../receive/ingestRequest';

export interface AppDeps {
  ingest: IngestDeps;
  db: Db;
  redis: RedisClient;
  queues: Queue[];
  registry: Registry;
  adminToken: string;
  maxBodyBytes: number;
  log: Logger;
}

const ADMIN_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
};

export function createApp(deps: AppDeps): Koa {
  const app = new Koa();
  app.use(async (ctx, next) => {
    const started = process.hrtime.bigint();
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        ctx.status = 404;
        ctx.body = { error: `no route for ${ctx.method} ${loggablePath(ctx.path)}` };
      } else if (ctx.status >= 400 && (ctx.body === undefined || ctx.body === null || typeof ctx.body === 'string')) {
        // The router's 405 and 501 have no body (Koa would send the status text); every refusal here is JSON with a reason.
        const allowed = ctx.response.get('Allow');
        ctx.body = { error: `${typeof ctx.body === 'string' ? ctx.body : ctx.message}${allowed ? `: ${ctx.method} is not allowed here, only ${allowed}` : ''}` };
      }
    } catch (error) {
      // Nothing a client sends should get here; a bug answers 500 without details, and the log has them.
      deps.log.error({ err: error, method: ctx.method, route: ctx.state.route }, 'request failed');
      ctx.status = 500;
      ctx.body = { error: 'internal error; see the receiver log' };
    }
    if (ctx.path.startsWith('/api/') || ctx.path.startsWith('/admin/')) ctx.set(ADMIN_HEADERS);
    const route = ctx.state.route ?? (ctx.path.startsWith('/api/') ? 'admin' : 'other');
    // Metrics name routes, never paths; the log gets a path only with token-like segments masked.
    deps.ingest.metrics.observeRequest(route, ctx.status);
    // Built only when debug is on: this runs for every request.
    if (deps.log.isLevelEnabled('debug')) deps.log.debug({ method: ctx.method, route, path: loggablePath(ctx.path), tenantId: ctx.state.tenantId, status: ctx.status, ms: Number(process.hrtime.bigint() - started) / 1e6 }, 'request');
  });
  const ingest = ingestRoutes(deps.ingest, deps.maxBodyBytes);
  const admin = adminRoutes({ db: deps.db, adminToken: deps.adminToken, log: deps.log });
  const ops = opsRoutes(deps.registry, () => checkReadiness(deps.redis, deps.db));
  app.use(boardMiddleware(deps.queues, deps.adminToken));
  app.use(ops.routes());
  app.use(ingest.routes()).use(ingest.allowedMethods());
  app.use(admin.routes()).use(admin.allowedMethods());
  return app;
}
