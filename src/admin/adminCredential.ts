/**
 * Who may use the admin API and the board. ADMIN_TOKEN, when set, is the one admin token (it wins over a stored
 * one). Otherwise the admin token made on first start (or by `activityd admin-token rotate`), which the database
 * keeps only as a SHA-256 hash; each process keeps that hash in memory, reloaded every TENANT_REFRESH_MS, so a
 * rotated-out token stops within 5 seconds everywhere and a new one works at once.
 */
import crypto from 'node:crypto';
import type { Db } from '../store/db';
import type { Logger } from '../log';
import { insertAdminTokenHashIfNone, replaceAdminTokenHash, storedAdminTokenHash } from '../store/adminToken';
import { generateToken, hashToken, secretsEqual } from '../tenants/tokens';
import { startReloadingValue } from '../reloadingValue';

/** Where an operator gets an admin token, for refusals and the warning when there is none. */
export const NO_ADMIN_TOKEN = 'no admin token exists: set ADMIN_TOKEN or run "activityd admin-token rotate"';

/** `none`: there is no admin token at all, so every admin request is refused. */
export type AdminCheck = 'ok' | 'wrong' | 'none';

export interface AdminCredential {
  check(given: string): Promise<AdminCheck>;
  stop(): void;
}

/** Makes the admin token unless one is stored; returns it only to the one caller that stored it (shown once). */
export async function createAdminTokenIfNone(db: Db): Promise<string | undefined> {
  const token = generateToken();
  return (await insertAdminTokenHashIfNone(db, hashToken(token))) ? token : undefined;
}

/** A new stored admin token; the one it replaces stops being accepted within TENANT_REFRESH_MS. */
export async function rotateAdminToken(db: Db): Promise<string> {
  const token = generateToken();
  await replaceAdminTokenHash(db, hashToken(token));
  return token;
}

/** Hashes have one length, so comparing them in constant time needs no padding. */
function hashesEqual(givenHash: string, storedHash: string): boolean {
  const given = Buffer.from(givenHash, 'hex');
  const stored = Buffer.from(storedHash, 'hex');
  return given.length === stored.length && crypto.timingSafeEqual(given, stored);
}

function environmentCredential(adminToken: string): AdminCredential {
  return { check: async (given) => (secretsEqual(given, adminToken) ? 'ok' : 'wrong'), stop: () => undefined };
}

async function storedCredential(db: Db, refreshMs: number, log: Logger): Promise<AdminCredential> {
  // null: loaded, and no admin token is stored.
  const stored = await startReloadingValue(async () => (await storedAdminTokenHash(db)) ?? null, refreshMs, (error) =>
    log.error({ err: error }, 'could not reload the admin token; keeping the last known one'),
  );
  if (stored.current() === null) log.warn(`${NO_ADMIN_TOKEN}; until then the admin API under /api/v1 and the board at /admin/queues answer 401`);
  const verdict = (givenHash: string): AdminCheck => {
    const hash = stored.current();
    if (!hash) return 'none';
    return hashesEqual(givenHash, hash) ? 'ok' : 'wrong';
  };
  return {
    async check(given) {
      const givenHash = hashToken(given);
      if (verdict(givenHash) === 'ok') return 'ok';
      // A token rotated in another process a moment ago works at once.
      await stored.reloadStartedNow();
      return verdict(givenHash);
    },
    stop: stored.stop,
  };
}

export async function startAdminCredential(adminToken: string, db: Db, refreshMs: number, log: Logger): Promise<AdminCredential> {
  return adminToken ? environmentCredential(adminToken) : storedCredential(db, refreshMs, log);
}
