/** Tenants as the admin API, the CLI and start-up manage them: names checked, tokens made, settings validated. Tokens leave this module only when just made. */
import type { Db } from '../store/db';
import { getTenant, insertTenant, loadTenantCredentialRows, replaceTokenHash, storedSettings, Tenant, tenantIdNamed, updateTenant } from '../store/tenants';
import { generateToken, hashToken } from './tokens';
import { applySettingChanges, readSettings, ReadSettings, TenantSettings } from './settings';
import { longerThan } from '../characterCount';

export class TenantError extends Error {
  constructor(message: string, readonly code: 'not_found' | 'invalid' | 'conflict') {
    super(message);
  }
}

export interface TenantCredential {
  id: number;
  tokenHash: string;
  enabled: boolean;
  settings: ReadSettings;
  oldToken?: { hash: string; validUntil: number };
}

/** How long a replaced token stays valid unless told otherwise: a day to update every sender. */
export const DEFAULT_KEEP_OLD_MS = 24 * 3_600_000;
/** The longest grace a replaced token may get. */
export const MAX_KEEP_OLD_MS = 30 * 86_400_000;
/** What a grace period may be, as both the CLI and the admin API say when refusing one. */
export const KEEP_OLD_RULE = 'must be a duration such as 0, 90s, 30m, 24h or 7d, at most 30d';

const notFound = (id: number) => new TenantError(`no tenant with id ${id}`, 'not_found');

export function validateTenantName(name: unknown): string {
  if (typeof name !== 'string' || name.trim() === '') throw new TenantError('name: must be a non-empty string', 'invalid');
  const trimmed = name.trim();
  if (longerThan(trimmed, 100)) throw new TenantError('name: must be at most 100 characters', 'invalid');
  if (/[\u0000-\u001f\u007f]/.test(trimmed)) throw new TenantError('name: must not contain control characters', 'invalid');
  return trimmed;
}

export async function createTenant(db: Db, rawName: string): Promise<Tenant & { token: string }> {
  const name = validateTenantName(rawName);
  const existing = await tenantIdNamed(db, name);
  if (existing !== undefined) throw new TenantError(`a tenant named "${name}" already exists (id ${existing})`, 'conflict');
  const token = generateToken();
  return { ...(await insertTenant(db, name, hashToken(token))), token };
}

export async function setTenantEnabled(db: Db, id: number, enabled: boolean): Promise<Tenant> {
  if (!(await updateTenant(db, id, { enabled }))) throw notFound(id);
  return (await getTenant(db, id)) as Tenant;
}

/**
 * Replaces the token; the old one is still accepted for keepOldMs (so senders can switch without a gap), then every
 * receiver refuses it. With 0 it stops as soon as each receiver reloads tenants (within TENANT_REFRESH_MS).
 */
export async function rotateTenantToken(db: Db, id: number, keepOldMs = DEFAULT_KEEP_OLD_MS): Promise<{ id: number; token: string; oldTokenValidUntil: string | null }> {
  const token = generateToken();
  const keepOldUntil = keepOldMs > 0 ? Date.now() + keepOldMs : undefined;
  if (!(await replaceTokenHash(db, id, hashToken(token), keepOldUntil))) throw notFound(id);
  return { id, token, oldTokenValidUntil: keepOldUntil === undefined ? null : new Date(keepOldUntil).toISOString() };
}

export async function loadTenantCredentials(db: Db): Promise<TenantCredential[]> {
  return (await loadTenantCredentialRows(db)).map((row) => ({ ...row, settings: readSettings(row.settings) }));
}

export async function getTenantSettings(db: Db, id: number): Promise<ReadSettings> {
  const stored = await storedSettings(db, id);
  if (stored === undefined) throw notFound(id);
  return readSettings(stored);
}

/** Validates and stores `key=value` changes; every receiver and worker sees them within TENANT_REFRESH_MS. */
export async function changeTenantSettings(db: Db, id: number, changes: Record<string, string>): Promise<TenantSettings> {
  const next = applySettingChanges(await getTenantSettings(db, id), changes);
  await updateTenant(db, id, { settings: JSON.stringify(next) });
  return next;
}
