/**
 * Makes concurrent batches end as some serial order of them would.
 * SQLite has one writer: `takeWriteLock` updates the write_lock row as the transaction's very first statement,
 * so the transaction holds the file's write lock from its start (as BEGIN IMMEDIATE would) and waits out the busy
 * timeout for it; a transaction that read first could not wait, and would fail at once when it tried to write.
 * PostgreSQL takes transaction-scoped advisory locks (tenant, slot) in two rounds, each one statement in ascending
 * slot order: first the slots of every record its events name (people by externalId and email, insert ids,
 * companies, assets, projects), then, once it has read the people those keys find, the people themselves (by id:
 * another batch may reach one of them by a key this one did not name) and the email domains it may match or learn.
 * Second-round slots lie above first-round ones, so every transaction takes its locks in one global order (tenant,
 * slot), never waiting for one while holding a higher one: no deadlock. Everything a batch decides about those
 * records it reads after its locks (the people again after the second round), so two batches that share a record
 * take turns, and batches that share none proceed in parallel.
 */
import crypto from 'node:crypto';
import type { Knex } from 'knex';
import { dialectOf } from './db';

/**
 * Keys hash onto a bounded number of slots per tenant, so a batch of thousands of events holds at most
 * 1024 + 512 locks per tenant (PostgreSQL's shared lock table holds about ten thousand in all, for every
 * connection); two keys that share a slot only make their batches take turns.
 */
const RECORD_SLOTS = 1024;
const FOUND_SLOTS = 512;

/** records: what the events name; found: the people those names found, and email domains. */
export type LockRound = 'records' | 'found';

export async function takeWriteLock(trx: Knex.Transaction): Promise<void> {
  if (dialectOf(trx) === 'sqlite') await trx('write_lock').where({ id: 1 }).increment('generation', 1);
}

/** Takes the round's locks for these keys; `keys` is only read on PostgreSQL. True when it took locks (the reads before them may be stale). */
export async function lockKeys(trx: Knex.Transaction, tenantId: number, round: LockRound, keys: Iterable<string>): Promise<boolean> {
  if (dialectOf(trx) === 'sqlite') return false;
  // Each key hashed once: a batch names its people and companies once per event (bulk: 5,000 events of 1,000 people).
  const slots = [...new Set([...new Set(keys)].map((key) => lockSlot(round, key)))].sort((a, b) => a - b);
  if (slots.length === 0) return false;
  await trx.raw('SELECT pg_advisory_xact_lock(?, k) FROM (SELECT unnest(?::int[]) AS k ORDER BY k) AS ordered', [tenantId, slots]);
  return true;
}

function lockSlot(round: LockRound, key: string): number {
  // The one-shot hash: the same digest as createHash's, so every worker version maps a key to the same slot.
  const hash = crypto.hash('sha1', key, 'buffer').readUInt32BE(0);
  return round === 'records' ? hash % RECORD_SLOTS : RECORD_SLOTS + (hash % FOUND_SLOTS);
}
