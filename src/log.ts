/** Structured JSON logs (pino). Tokens never reach a log: the ingest route is logged by name, not by URL. */
import pino, { Logger } from 'pino';
import type { Config } from '../config';

export type { Logger };

export function createLogger(config: Pick<Config, 'LOG_LEVEL'>, name: string): Logger {
  return pino({
    name,
    level: config.LOG_LEVEL,
    base: { pid: process.pid, process: name },
    redact: { paths: ['token', '*.token', 'authorization', '*.authorization', 'headers.authorization'], censor: '[redacted]' },
  });
}

/**
 * A request path safe to log: everything after /analytics/ may be a tenant token, and so may any long opaque
 * segment of a path no route knows (a token pasted into the wrong URL); both are replaced by "…".
 */
export function loggablePath(path: string): string {
  if (path === '/analytics' || path.startsWith('/analytics/')) return path === '/analytics' ? path : '/analytics/…';
  return path
    .split('/')
    .map((segment) => (segment.length >= 24 ? '…' : segment))
    .join('/');
}
