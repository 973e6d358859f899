/** /healthz (the process is up), /readyz (Redis and the database answer) and /metrics (Prometheus text). */
import Router from '@koa/router';
import type { Registry } from 'prom-client';
import type { RedisClient } from '../queue/redis';
import type { Db } from '../store/db';
import { sendResult } from './sendResult';
import { checkReadiness } from '../daemon/readiness';

export function opsRoutes(registry: Registry, redis: RedisClient, db: Db): Router {
  const router = new Router();
  router.get('/healthz', (ctx) => sendResult(ctx, { status: 200, body: { status: 'ok' } }));
  router.get('/readyz', async (ctx) => {
    ctx.state.route = 'readyz';
    sendResult(ctx, await checkReadiness(redis, db));
  });
  router.get('/metrics', async (ctx) => {
    ctx.state.route = 'metrics';
    ctx.type = registry.contentType;
    ctx.body = await registry.metrics();
  });
  return router;
}
