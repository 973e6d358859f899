/**
 * Tells transient failures (retry with backoff: the database is busy, locked or unreachable, or lost a race)
 * from permanent ones (retrying cannot help: the job fails at once and is kept for inspection).
 */
const TRANSIENT_SQLITE_CODES = new Set(['SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_CANTOPEN', 'SQLITE_IOERR', 'SQLITE_PROTOCOL', 'SQLITE_FULL']);
const TRANSIENT_NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
/** PostgreSQL SQLSTATEs worth retrying: lost races (unique violation, serialization, deadlock), lock timeouts, shutdowns. */
const TRANSIENT_POSTGRES_STATES = new Set(['23505', '40001', '40P01', '55P03', '57P01', '57P02', '57P03']);
const TRANSIENT_POSTGRES_CLASSES = ['08', '53'];

export function isTransientFailure(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = String((error as NodeJS.ErrnoException).code ?? '');
  if (error.name === 'KnexTimeoutError') return true;
  if (TRANSIENT_SQLITE_CODES.has(code) || TRANSIENT_NETWORK_CODES.has(code)) return true;
  // Two writers creating the same row: the loser retries, re-reads and continues.
  if (code === 'SQLITE_CONSTRAINT' && /UNIQUE constraint failed/.test(error.message)) return true;
  if (/^[0-9A-Z]{5}$/.test(code)) {
    return TRANSIENT_POSTGRES_STATES.has(code) || TRANSIENT_POSTGRES_CLASSES.includes(code.slice(0, 2));
  }
  return /Connection terminated|connection .*(closed|lost)|Client has encountered a connection error/i.test(error.message);
}
