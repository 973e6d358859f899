/**
 * Each process's in-memory view of tenants (token hash -> tenant), reloaded every TENANT_REFRESH_MS so the
 * ingest path runs no SQL in steady state, and a disabled tenant or replaced token takes effect within 5 seconds.
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
  let byTokenHash: Map<string, KnownToken> | undefined;
  let inFlight: Promise<void> | undefined;
  let next: Promise<void> | undefined;

  function reload(): Promise<void> {
    inFlight ??= loadTenantCredentials(db)
      .then((credentials) => {
        byTokenHash = tokensOf(credentials);
      })
      .catch((error: Error) => {
        log.error({ err: error }, 'could not reload tenants; keeping the last known list');
      })
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  }

  /**
   * A reload that starts after the caller asked, so a tenant made anywhere just before its first request is seen.
   * A reload already running may have read the tenants too early: every request arriving meanwhile waits for the one
   * that follows it, together. So unknown tokens, however many, cost at most one query at a time.
   */
  function reloadStartedNow(): Promise<void> {
    if (!inFlight) return reload();
    next ??= inFlight.then(() => {
      next = undefined;
      return reload();
    });
    return next;
  }

  await reload();
  const timer = setInterval(reload, refreshMs);
  timer.unref();

  function verdict(known: KnownToken | undefined): TokenCheck {
    // A replaced token's grace ends at its time in every receiver, whenever each last reloaded.
    if (!known || (known.validUntil !== undefined && Date.now() >= known.validUntil)) return { status: 'unknown' };
    const { credential } = known;
    return credential.enabled ? { status: 'ok', tenantId: credential.id, settings: credential.settings } : { status: 'disabled', tenantId: credential.id };
  }

  return {
    async check(token) {
      const tokenHash = hashToken(token);
      if (byTokenHash?.has(tokenHash)) return verdict(byTokenHash.get(tokenHash));
      await reloadStartedNow();
      if (!byTokenHash) return { status: 'unavailable' };
      return verdict(byTokenHash.get(tokenHash));
    },
    stop() {
      clearInterval(timer);
    },
  };
}
