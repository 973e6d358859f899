/** The receiver's Koa app: one error boundary, ingest, the admin API, the board, and health and metrics. */
import Koa from 'koa';
import type { Queue } from 'bullmq';
import type { RedisClient } from '../queue/redis';
import type { Db } from '../store/db';
import { loggablePath, Logger } from '../log';
import { INGEST_ROUTES, ingestRoutes } from '../receive/ingestRoutes';
import { adminRoutes } from '../admin/adminRoutes';
import { boardMiddleware } from '../admin/board';
import { OPS_ROUTES, opsRoutes, MetricsText } from '../http/opsRoutes';
import { checkReadiness } from './readiness';
import { answerErrors } from '../http/errorAnswers';
import { discardUnreadBodies } from '../http/discardUnreadBody';
import type { IngestDeps } from '../receive/ingestRequest';
import type { AdminCredential } from '../admin/adminCredential';

export interface AppDeps {
  ingest: IngestDeps;
  db: Db;
  redis: RedisClient;
  queues: Queue[];
  metrics: MetricsText;
  adminCredential: AdminCredential;
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
  // Outside the error boundary only this: it sees each request's final answer, and never throws.
  app.use(async (ctx, next) => {
    const started = process.hrtime.bigint();
    await next();
    if (ctx.path.startsWith('/api/') || ctx.path.startsWith('/admin/')) ctx.set(ADMIN_HEADERS);
    const route = ctx.state.route ?? (ctx.path.startsWith('/api/') ? 'admin' : 'other');
    // Metrics name routes, never paths; the log gets a path only with token-like segments masked.
    deps.ingest.metrics.observeRequest(route, ctx.status);
    // Built only when debug is on: this runs for every request.
    if (deps.log.isLevelEnabled('debug')) deps.log.debug({ method: ctx.method, route, path: loggablePath(ctx.path), tenantId: ctx.state.tenantId, status: ctx.status, ms: Number(process.hrtime.bigint() - started) / 1e6 }, 'request');
  });
  // Outside the error boundary: it acts on the final answer. Every route's body limit is at most MAX_BODY_BYTES.
  app.use(discardUnreadBodies(deps.maxBodyBytes));
  app.use(answerErrors(deps.log));
  const ingest = ingestRoutes(deps.ingest, deps.maxBodyBytes);
  const admin = adminRoutes({ db: deps.db, adminCredential: deps.adminCredential, log: deps.log, receiverRoutes: [...INGEST_ROUTES, ...OPS_ROUTES] });
  const ops = opsRoutes(deps.metrics, () => checkReadiness(deps.redis, deps.db));
  app.use(boardMiddleware(deps.queues, deps.adminCredential));
  app.use(ops.routes());
  app.use(ingest.routes()).use(ingest.allowedMethods());
  app.use(admin.routes()).use(admin.allowedMethods());
  return app;
}
