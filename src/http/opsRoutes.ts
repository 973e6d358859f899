/** /healthz (the process is up), /readyz (Redis and the database answer) and /metrics (Prometheus text). */
import type { Middleware } from 'koa';
import type Router from '@koa/router';
import { sendResult } from './sendResult';
import type { HttpResult } from './result';
import { exactRouter, mountRoutes, TableRoute } from './routeAccess';

export const OPS_ROUTES: TableRoute[] = [
  { method: 'get', path: '/healthz', access: 'public' },
  { method: 'get', path: '/readyz', access: 'public' },
  { method: 'get', path: '/metrics', access: 'public' },
];

/** What /metrics answers: the Prometheus text and its content type. */
export interface MetricsText {
  contentType: string;
  text(): Promise<string>;
}

/** `readiness` answers /readyz and `metrics` /metrics: the process knows what it depends on, the routes do not. */
export function opsRoutes(metrics: MetricsText, readiness: () => Promise<HttpResult>): Router {
  const handlers: Record<string, Middleware> = {
    '/healthz': (ctx) => sendResult(ctx, { status: 200, body: { status: 'ok' } }),
    '/readyz': async (ctx) => {
      ctx.state.route = 'readyz';
      sendResult(ctx, await readiness());
    },
    '/metrics': async (ctx) => {
      ctx.state.route = 'metrics';
      ctx.type = metrics.contentType;
      ctx.body = await metrics.text();
    },
  };
  const router = exactRouter();
  mountRoutes(router, OPS_ROUTES, undefined, (route) => handlers[route.path]);
  return router;
}
