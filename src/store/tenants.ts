/** Tenants in SQL: creation, listing, enabling and token rotation. Tokens leave this module only when just made. */
import type { Db } from './db';
import { generateToken, hashToken } from '../tenants/tokens';
import { applySettingChanges, readSettings, TenantSettings } from '../tenants/settings';
import { longerThan } from '../characterCount';

export interface Tenant {
  id: number;
  name: string;
  enabled: boolean;
  createdAt: string;
}

export interface TenantCredential {
  id: number;
  tokenHash: string;
  enabled: boolean;
  settings: TenantSettings;
}

export class TenantError extends Error {
  constructor(message: string, readonly code: 'not_found' | 'invalid' | 'conflict') {
    super(message);
  }
}

interface TenantRow {
  id: number;
  name: string;
  enabled: boolean | number;
  token_hash: string;
  settings: string;
  created_at: number | string;
}

function toTenant(row: TenantRow): Tenant {
  return { id: row.id, name: row.name, enabled: Boolean(row.enabled), createdAt: new Date(Number(row.created_at)).toISOString() };
}

export function validateTenantName(name: unknown): string {
  if (typeof name !== 'string' || name.trim() === '') throw new TenantError('name: must be a non-empty string', 'invalid');
  const trimmed = name.trim();
  if (longerThan(trimmed, 100)) throw new TenantError('name: must be at most 100 characters', 'invalid');
  if (/[\u0000-\u001f\u007f]/.test(trimmed)) throw new TenantError('name: must not contain control characters', 'invalid');
  return trimmed;
}

export async function createTenant(db: Db, rawName: string): Promise<Tenant & { token: string }> {
  const name = validateTenantName(rawName);
  const existing = await db('tenants').where({ name }).first();
  if (existing) throw new TenantError(`a tenant named "${name}" already exists (id ${existing.id})`, 'conflict');
  const token = generateToken();
  const now = Date.now();
  const [row] = await db('tenants')
    .insert({ name, token_hash: hashToken(token), enabled: true, settings: '{}', created_at: now, updated_at: now })
    .returning(['id', 'name', 'enabled', 'token_hash', 'created_at']);
  return { ...toTenant(row as TenantRow), token };
}

export async function listTenants(db: Db): Promise<Tenant[]> {
  const rows: TenantRow[] = await db('tenants').select('*').orderBy('id');
  return rows.map(toTenant);
}

export async function getTenant(db: Db, id: number): Promise<Tenant | undefined> {
  const row: TenantRow | undefined = await db('tenants').where({ id }).first();
  return row && toTenant(row);
}

export async function countTenants(db: Db): Promise<number> {
  const [{ n }] = await db('tenants').count({ n: '*' });
  return Number(n);
}

export async function setTenantEnabled(db: Db, id: number, enabled: boolean): Promise<Tenant> {
  const changed = await db('tenants').where({ id }).update({ enabled, updated_at: Date.now() });
  if (changed === 0) throw new TenantError(`no tenant with id ${id}`, 'not_found');
  return (await getTenant(db, id)) as Tenant;
}

/** Replaces the token; the old one stops working as soon as each receiver reloads tenants. */
export async function rotateTenantToken(db: Db, id: number): Promise<{ id: number; token: string }> {
  const token = generateToken();
  const changed = await db('tenants').where({ id }).update({ token_hash: hashToken(token), updated_at: Date.now() });
  if (changed === 0) throw new TenantError(`no tenant with id ${id}`, 'not_found');
  return { id, token };
}

export async function loadTenantCredentials(db: Db): Promise<TenantCredential[]> {
  const rows: TenantRow[] = await db('tenants').select('id', 'token_hash', 'enabled', 'settings');
  return rows.map((row) => ({ id: row.id, tokenHash: row.token_hash, enabled: Boolean(row.enabled), settings: readSettings(row.settings) }));
}

export async function getTenantSettings(db: Db, id: number): Promise<TenantSettings> {
  const row: TenantRow | undefined = await db('tenants').where({ id }).first('settings');
  if (!row) throw new TenantError(`no tenant with id ${id}`, 'not_found');
  return readSettings(row.settings);
}

/** Validates and stores `key=value` changes; every receiver and worker sees them within TENANT_REFRESH_MS. */
export async function changeTenantSettings(db: Db, id: number, changes: Record<string, string>): Promise<TenantSettings> {
  const next = applySettingChanges(await getTenantSettings(db, id), changes);
  await db('tenants').where({ id }).update({ settings: JSON.stringify(next), updated_at: Date.now() });
  return next;
}
