/**
 * Who may call a route: every route table entry states it, and each route runs the guard built from it before its
 * handler, so no path reaches a handler past a guard that looked at another spelling of it.
 */
import Router from '@koa/router';
import type { Middleware } from 'koa';
import { sendResult } from './sendResult';
import { errorResult } from './result';

/**
 * `public`: anyone (health and metrics). `tenant`: a tenant token, which the handler checks itself because it may
 * sit in the path, the Authorization header or (Amplitude's HTTP V2 API) the body. `admin`: ADMIN_TOKEN.
 */
export type Access = 'public' | 'tenant' | 'admin';

export type RouteMethod = 'get' | 'post' | 'put' | 'patch';

/** What every route table entry says of a route, whatever else it carries. */
export interface TableRoute {
  method: RouteMethod;
  path: string;
  access: Access;
}

/**
 * Routers match a path exactly as written: case-sensitive and without a trailing slash, so `/API/v1/...`,
 * `/api/v1/tenants/` or `//api/v1` is a 404 rather than another way to the same handler.
 */
export function exactRouter(prefix?: string): Router {
  return new Router({ prefix, sensitive: true, strict: true });
}

const passThrough: Middleware = (_ctx, next) => next();

/** The guard a route of this access runs first; `admin` is the caller's (the admin API and the board read the credential differently). */
export function guardFor(access: Access, adminGuard: Middleware | undefined): Middleware {
  if (access !== 'admin') return passThrough;
  if (!adminGuard) throw new Error('an admin route needs an admin guard');
  return adminGuard;
}

/**
 * Registers each route behind its guard. A path that is not public also answers OPTIONS itself, behind the same
 * guard and with no CORS grant (405 and Allow), instead of the router's automatic 200: a preflight from another
 * origin is never granted, and nothing unauthenticated answers 2xx.
 */
export function mountRoutes<R extends TableRoute>(router: Router, routes: readonly R[], adminGuard: Middleware | undefined, handler: (route: R) => Middleware): void {
  const methodsByPath = new Map<string, { access: Access; methods: string[] }>();
  for (const route of routes) {
    router.register(route.path, [route.method], [guardFor(route.access, adminGuard), handler(route)]);
    const entry = methodsByPath.get(route.path) ?? { access: route.access, methods: [] };
    entry.methods.push(route.method === 'get' ? 'GET, HEAD' : route.method.toUpperCase());
    methodsByPath.set(route.path, entry);
  }
  for (const [path, { access, methods }] of methodsByPath) {
    if (access === 'public') continue;
    const allow = methods.join(', ');
    router.options(path, guardFor(access, adminGuard), (ctx) => sendResult(ctx, errorResult(405, `OPTIONS is not served here (no cross-origin access is granted); this route takes ${allow}`, { Allow: allow })));
  }
}
