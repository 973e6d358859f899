/**
 * Serializes identity resolution for the same person across worker processes.
 * SQLite has one writer: `takeWriteLock` updates the write_lock row as the transaction's very first statement,
 * so the transaction holds the file's write lock from its start (as BEGIN IMMEDIATE would) and waits out the busy
 * timeout for it; a transaction that read first could not wait, and would fail at once when it tried to write.
 * PostgreSQL takes a transaction-scoped advisory lock per identity key, in ascending order so two batches never
 * deadlock; unrelated people proceed in parallel.
 */
import crypto from 'node:crypto';
import type { Knex } from 'knex';
import { dialectOf } from './db';

export async function takeWriteLock(trx: Knex.Transaction): Promise<void> {
  if (dialectOf(trx) === 'sqlite') await trx('write_lock').where({ id: 1 }).increment('generation', 1);
}

export async function lockIdentities(trx: Knex.Transaction, tenantId: number, keys: Iterable<string>): Promise<void> {
  if (dialectOf(trx) === 'sqlite') return;
  const lockIds = [...new Set([...keys].map(advisoryLockId))].sort((a, b) => a - b);
  if (lockIds.length === 0) return;
  await trx.raw('SELECT pg_advisory_xact_lock(?, k) FROM (SELECT unnest(?::int[]) AS k) AS ordered', [tenantId, lockIds]);
}

function advisoryLockId(key: string): number {
  return crypto.createHash('sha1').update(key).digest().readInt32BE(0);
}
