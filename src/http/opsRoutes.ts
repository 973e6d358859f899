/** /healthz (the process is up), /readyz (Redis and the database answer) and /metrics (Prometheus text). */
import type { Middleware } from 'koa';
import type Router from '@koa/router';
import { sendResult } from './sendResult';
import type { HttpResult } from './result';
import { Type } from '@sinclair/typebox';
import { exactRouter, mountRoutes } from './routeAccess';
import { DocumentedRoute, reply, Strict } from './routeDoc';

const Readiness = Strict({ status: Type.Union([Type.Literal('ready'), Type.Literal('not ready')]), redis: Type.String({ description: 'ok, or down: why' }), database: Type.String({ description: 'ok, or down: why' }) });

export const OPS_ROUTES: DocumentedRoute[] = [
  { method: 'get', path: '/healthz', access: 'public', doc: { summary: 'The process is up', responses: { 200: reply('up', Strict({ status: Type.Literal('ok') })) } } },
  { method: 'get', path: '/readyz', access: 'public', doc: { summary: 'Redis and the database answer', responses: { 200: reply('both answer', Readiness), 503: reply('which one is down, and why', Readiness) } } },
  { method: 'get', path: '/metrics', access: 'public', doc: { summary: 'Prometheus metrics', responses: { 200: { description: 'the metrics', contentType: 'text/plain; version=0.0.4' } } } },
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
