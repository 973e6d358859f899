/** Retention's deletes: many rows gone in small transactions, so no writer waits behind one long delete. */
import type { Knex } from 'knex';
import type { Db } from './db';

export interface BatchedDelete<K> {
  /** Up to `limit` keys of rows still to delete. */
  select(db: Db, limit: number): Promise<K[]>;
  /** Deletes the rows of `keys` (and whatever hangs on them) in one transaction. */
  remove(trx: Knex.Transaction, keys: K[]): Promise<void>;
}

export interface BatchOptions {
  size: number;
  /** Between batches: on SQLite another process's writer gets the file lock in this gap (its busy handler polls). */
  pauseMs: number;
  /** Asked before each batch: a stopping process ends the pass there. */
  stopped?: () => boolean;
}

/** Deletes batch after batch until none is left (or `stopped`); returns how many keys went. */
export async function deleteInBatches<K>(db: Db, work: BatchedDelete<K>, { size, pauseMs, stopped }: BatchOptions): Promise<number> {
  let removed = 0;
  while (!stopped?.()) {
    const keys = await work.select(db, size);
    if (keys.length === 0) break;
    await db.transaction((trx) => work.remove(trx, keys));
    removed += keys.length;
    if (keys.length < size) break;
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
  }
  return removed;
}
