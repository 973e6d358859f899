/**
 * A start that cannot complete says so in one line naming what failed, and the process exits non-zero, so that
 * pm2 or systemd see the failure (and restart or alert) instead of a process that lingers half-started.
 */
import type { DatabaseTarget } from '../../config/parsers';

export class StartupError extends Error {}

/** A signal came during the start: what had started is stopped again, and nothing more starts (nothing binds, no "ready"). */
export class StartAborted extends Error {
  constructor() {
    super('stopped during the start');
  }
}

/** Throws StartAborted once the start's signal has fired; called before each step that would start more. */
export function continueUnlessAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new StartAborted();
}

/** The operating system's codes in words; anything else keeps its own message, on one line. */
export function failureReason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  switch (code) {
    case 'EADDRINUSE':
      return 'the port is already in use (another activityd, or another program, listens on it)';
    case 'EACCES':
      return 'no permission (ports below 1024 need privileges; files need write access)';
    case 'EADDRNOTAVAIL':
      return 'that address is not one of this machine\'s';
    case 'ECONNREFUSED':
      return 'connection refused (is it running, on that host and port?)';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'the host name does not resolve';
  }
  return String((error as Error)?.message ?? error).replace(/\s+/g, ' ').trim();
}

/** Runs one step of the start; a failure becomes a StartupError naming the step. */
export async function startupStep<T>(what: string, step: () => T | Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    if (error instanceof StartupError) throw error;
    throw new StartupError(`${what}: ${failureReason(error)}`);
  }
}

/** The database as a message may name it: the SQLite file, or the PostgreSQL URL without its password. */
export function describeDatabase(target: DatabaseTarget): string {
  if (target.client === 'sqlite') return `SQLite file ${target.filename}`;
  return `PostgreSQL ${target.connectionString.replace(/^([^:]+:\/\/[^:@/]*):[^@/]*@/, '$1:***@')} (schema ${target.schema})`;
}
