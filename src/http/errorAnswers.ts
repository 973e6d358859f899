/**
 * The one place errors become HTTP answers. Handlers throw; this middleware, first to handle any request, maps the
 * known error classes to a status and a JSON reason, and anything else (a bug) to a 500 without details.
 */
import type { Middleware } from 'koa';
import { loggablePath, Logger } from '../log';
import { TenantError } from '../tenants/tenantAccounts';
import { SettingError } from '../tenants/settings';
import { BodyReadError } from './readBody';
import { RequestError } from './requestError';
import { errorResult, HttpResult } from './result';
import { sendResult } from './sendResult';

const TENANT_ERROR_STATUS: Record<TenantError['code'], number> = { not_found: 404, conflict: 409, invalid: 400 };

/** The answer to a known error, or undefined for any other. */
export function errorAnswer(error: unknown): HttpResult | undefined {
  if (error instanceof RequestError || error instanceof BodyReadError) return errorResult(error.status, error.message);
  if (error instanceof TenantError) return errorResult(TENANT_ERROR_STATUS[error.code], error.message);
  // A setting is a field of the tenant's "settings" object in the admin API.
  if (error instanceof SettingError) return errorResult(400, `settings.${error.message}`);
  return undefined;
}

export function answerErrors(log: Logger): Middleware {
  return async (ctx, next) => {
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
      const known = errorAnswer(error);
      if (known) return sendResult(ctx, known);
      // Nothing a client sends should get here; a bug answers 500 without details, and the log has them.
      log.error({ err: error, method: ctx.method, route: ctx.state.route }, 'request failed');
      ctx.status = 500;
      ctx.body = { error: 'internal error; see the receiver log' };
    }
  };
}
