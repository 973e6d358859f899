import type { Context } from 'koa';
import type { HttpResult } from './result';

export function sendResult(ctx: Context, result: HttpResult): void {
  ctx.status = result.status;
  ctx.body = result.body;
  for (const [name, value] of Object.entries(result.headers ?? {})) ctx.set(name, value);
}
