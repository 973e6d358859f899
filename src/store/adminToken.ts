/** The stored admin token's hash: one row, made once, replaced by rotation. The token itself is made in admin/. */
import type { Db } from './db';

const ROW_ID = 1;

/** Stores the hash unless an admin token exists; true when this call stored it (the one process that made it). */
export async function insertAdminTokenHashIfNone(db: Db, tokenHash: string): Promise<boolean> {
  const inserted = await db('admin_token').insert({ id: ROW_ID, token_hash: tokenHash, created_at: Date.now() }).onConflict('id').ignore().returning('id');
  return inserted.length > 0;
}

export async function replaceAdminTokenHash(db: Db, tokenHash: string): Promise<void> {
  await db('admin_token').insert({ id: ROW_ID, token_hash: tokenHash, created_at: Date.now() }).onConflict('id').merge();
}

export async function storedAdminTokenHash(db: Db): Promise<string | undefined> {
  const row: { token_hash: string } | undefined = await db('admin_token').where({ id: ROW_ID }).first('token_hash');
  return row?.token_hash;
}
