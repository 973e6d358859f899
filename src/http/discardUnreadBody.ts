/**
 * An answer sent before the request's body was read to its end (a wrong key, a body over its limit or the memory
 * budget, a bad encoding): the rest of the body is read and dropped, within a bound, so the client can finish sending
 * and read the answer. Closing with bytes unread makes the kernel reset the connection, and the client sees a network
 * error instead of the answer (and an SDK retries the same request forever instead of stopping or splitting it).
 */
import type { IncomingMessage } from 'node:http';
import type { Context, Middleware } from 'koa';
import { stillAwaitingContinue } from './expectContinue';

/** How long the rest of a refused body may take to arrive; past it the connection is closed. */
export const DISCARD_MS = 5000;

/** `maxBytes`: raw bytes (as sent, before any decompression) read and dropped after the answer before the connection is closed. */
export function discardUnreadBodies(maxBytes: number): Middleware {
  return async (ctx, next) => {
    await next();
    if (ctx.req.complete || ctx.req.destroyed) return;
    // Refused without `100 Continue`: the client will not send the body, so the connection cannot carry another request.
    if (stillAwaitingContinue(ctx.req)) return void ctx.set('Connection', 'close');
    const discarded = discardRest(ctx.req, maxBytes, DISCARD_MS);
    // Node closes this connection as soon as the answer is written: the rest must be read first, the answer waits.
    if (closesAfterAnswer(ctx)) return void (await discarded);
    // Keep-alive: the answer goes now; the connection serves the next request once the rest is read, or is closed.
    void discarded.then((complete) => complete || closeAfterAnswer(ctx));
  };
}

/** Reads and drops the request's remaining bytes; true once it ended, false when it went past the bound first. */
function discardRest(request: IncomingMessage, maxBytes: number, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    let bytes = 0;
    const done = (complete: boolean) => {
      clearTimeout(timer);
      request.off('data', count).off('end', ended).off('close', closed);
      if (!complete) request.pause();
      resolve(complete);
    };
    const count = (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > maxBytes) done(false);
    };
    const ended = () => done(true);
    const closed = () => done(request.complete);
    const timer = setTimeout(() => done(false), ms);
    request.on('data', count).once('end', ended).once('close', closed);
    request.resume();
  });
}

function closesAfterAnswer(ctx: Context): boolean {
  const connection = `${ctx.get('connection')},${ctx.response.get('connection')}`.toLowerCase();
  return /\bclose\b/.test(connection) || (ctx.req.httpVersion === '1.0' && !/\bkeep-alive\b/.test(connection));
}

function closeAfterAnswer(ctx: Context): void {
  const socket = ctx.req.socket;
  if (ctx.res.writableFinished) socket.destroy();
  else ctx.res.once('finish', () => socket.destroy());
}
