/**
 * Logs (pino): JSON lines for machines, or pino-pretty's readable lines on a terminal (LOG_FORMAT). Tokens never
 * reach a log: the ingest route is logged by name, not by URL, and token fields are redacted before either format.
 */
import pino, { Logger } from 'pino';
import pretty from 'pino-pretty';
import type { Config } from '../config';

export type { Logger };

type LogSettings = Pick<Config, 'LOG_LEVEL'> & Partial<Pick<Config, 'LOG_FORMAT'>>;

/** `destination` (tests) replaces stdout; an unset LOG_FORMAT is pretty only when stdout is a terminal. */
export function createLogger(config: LogSettings, name: string, destination?: NodeJS.WritableStream): Logger {
  const options = {
    name,
    level: config.LOG_LEVEL,
    base: { pid: process.pid, process: name },
    redact: { paths: ['token', '*.token', 'authorization', '*.authorization', 'headers.authorization'], censor: '[redacted]' },
  };
  const terminal = destination === undefined && process.stdout.isTTY === true;
  const format = config.LOG_FORMAT === 'pretty' || config.LOG_FORMAT === 'json' ? config.LOG_FORMAT : terminal ? 'pretty' : 'json';
  if (format === 'json') return destination ? pino(options, destination) : pino(options);
  // Synchronous, as pino's own stdout is: the last lines before an exit are not lost.
  return pino(options, pretty({ destination: destination ?? 1, sync: true, colorize: terminal, ignore: 'process' }));
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
