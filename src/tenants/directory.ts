/**
 * Each process's in-memory view of tenants (token hash -> tenant), reloaded every TENANT_REFRESH_MS so the
 * ingest path runs no SQL in steady state, and a disabled tenant or replaced token takes effect within 5 seconds.
 */
import type { Db } from '../store/db';
import type { Logger } from '../log';
import { loadTenantCredentials, TenantCredential } from './tenantAccounts';
import { hashToken } from './tokens';
import type { TenantSettings } from './settings';
import { startReloadingValue } from '../reloadingValue';

export type TokenCheck =
  | { status: 'ok'; tenantId: number; settings: TenantSettings }
  | { status: 'unknown' }
  | { status: 'disabled'; tenantId: number }
  | { status: 'unavailable' };

export interface TenantDirectory {
  check(token: string): Promise<TokenCheck>;
  stop(): void;
}

/** A token the directory knows: the tenant's current one, or its previous one until the end of its grace period. */
interface KnownToken {
  credential: TenantCredential;
  validUntil?: number;
}

function tokensOf(credentials: TenantCredential[]): Map<string, KnownToken> {
  const byTokenHash = new Map<string, KnownToken>();
  for (const credential of credentials) {
    if (credential.oldToken) byTokenHash.set(credential.oldToken.hash, { credential, validUntil: credential.oldToken.validUntil });
  }
  for (const credential of credentials) byTokenHash.set(credential.tokenHash, { credential });
  return byTokenHash;
}

export async function startTenantDirectory(db: Db, refreshMs: number, log: Logger): Promise<TenantDirectory> {
  const tokens = await startReloadingValue(async () => tokensOf(await loadTenantCredentials(db)), refreshMs, (error) =>
    log.error({ err: error }, 'could not reload tenants; keeping the last known list'),
  );

  function verdict(known: KnownToken | undefined): TokenCheck {
    // A replaced token's grace ends at its time in every receiver, whenever each last reloaded.
    if (!known || (known.validUntil !== undefined && Date.now() >= known.validUntil)) return { status: 'unknown' };
    const { credential } = known;
    return credential.enabled ? { status: 'ok', tenantId: credential.id, settings: credential.settings } : { status: 'disabled', tenantId: credential.id };
  }

  return {
    async check(token) {
      const tokenHash = hashToken(token);
      const known = tokens.current()?.get(tokenHash);
      if (known) return verdict(known);
      // A tenant made anywhere just before its first request is seen.
      await tokens.reloadStartedNow();
      const reloaded = tokens.current();
      if (!reloaded) return { status: 'unavailable' };
      return verdict(reloaded.get(tokenHash));
    },
    stop: tokens.stop,
  };
}
