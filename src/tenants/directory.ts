/**
 * Each process's in-memory view of tenants (token hash -> tenant), reloaded every TENANT_REFRESH_MS so the
 * ingest path runs no SQL in steady state, and a disabled tenant or rotated token takes effect within 5 seconds.
 */
import type { Db } from '../store/db';
import type { Logger } from '../log';
import { loadTenantCredentials, TenantCredential } from './tenantAccounts';
import { hashToken } from './tokens';
import type { TenantSettings } from './settings';

export type TokenCheck =
  | { status: 'ok'; tenantId: number; settings: TenantSettings }
  | { status: 'unknown' }
  | { status: 'disabled'; tenantId: number }
  | { status: 'unavailable' };

/** An unknown token triggers a reload at most this often, so a just-created tenant works at once without letting random tokens hammer the database. */
const MISS_RELOAD_INTERVAL_MS = 250;

export interface TenantDirectory {
  check(token: string): Promise<TokenCheck>;
  stop(): void;
}

export async function startTenantDirectory(db: Db, refreshMs: number, log: Logger): Promise<TenantDirectory> {
  let byTokenHash: Map<string, TenantCredential> | undefined;
  let loadedAt = 0;
  let inFlight: Promise<void> | undefined;

  function reload(): Promise<void> {
    inFlight ??= loadTenantCredentials(db)
      .then((credentials) => {
        byTokenHash = new Map(credentials.map((credential) => [credential.tokenHash, credential]));
        loadedAt = Date.now();
      })
      .catch((error: Error) => {
        log.error({ err: error }, 'could not reload tenants; keeping the last known list');
      })
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  }

  await reload();
  const timer = setInterval(reload, refreshMs);
  timer.unref();

  function verdict(credential: TenantCredential | undefined): TokenCheck {
    if (!credential) return { status: 'unknown' };
    return credential.enabled ? { status: 'ok', tenantId: credential.id, settings: credential.settings } : { status: 'disabled', tenantId: credential.id };
  }

  return {
    async check(token) {
      const tokenHash = hashToken(token);
      if (byTokenHash?.has(tokenHash)) return verdict(byTokenHash.get(tokenHash));
      if (Date.now() - loadedAt >= MISS_RELOAD_INTERVAL_MS) await reload();
      if (!byTokenHash) return { status: 'unavailable' };
      return verdict(byTokenHash.get(tokenHash));
    },
    stop() {
      clearInterval(timer);
    },
  };
}
