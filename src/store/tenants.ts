/** Tenants in SQL: rows in and out. Names, tokens and settings are checked and made in tenants/, not here. */
import type { Db } from './db';

export interface Tenant {
  id: number;
  name: string;
  enabled: boolean;
  createdAt: string;
  /** Until when the token replaced last is still accepted (ISO time), or null when it no longer is. */
  oldTokenValidUntil: string | null;
}

/** What a process needs to know a tenant by its token: the settings as stored (JSON text). */
export interface TenantCredentialRow {
  id: number;
  tokenHash: string;
  enabled: boolean;
  settings: string;
  /** The replaced token's hash while it is still valid, and until when (epoch ms). */
  oldToken?: { hash: string; validUntil: number };
}

interface TenantRow {
  id: number;
  name: string;
  enabled: boolean | number;
  token_hash: string;
  settings: string;
  created_at: number | string;
  old_token_hash: string | null;
  old_token_valid_until: number | string | null;
}

/** The replaced token while it is still valid; PostgreSQL returns bigint as text. */
function validOldToken(row: Pick<TenantRow, 'old_token_hash' | 'old_token_valid_until'>): { hash: string; validUntil: number } | undefined {
  const validUntil = Number(row.old_token_valid_until);
  return row.old_token_hash && validUntil > Date.now() ? { hash: row.old_token_hash, validUntil } : undefined;
}

function toTenant(row: TenantRow): Tenant {
  const oldToken = validOldToken(row);
  return {
    id: row.id,
    name: row.name,
    enabled: Boolean(row.enabled),
    createdAt: new Date(Number(row.created_at)).toISOString(),
    oldTokenValidUntil: oldToken ? new Date(oldToken.validUntil).toISOString() : null,
  };
}

export async function tenantIdNamed(db: Db, name: string): Promise<number | undefined> {
  const row: Pick<TenantRow, 'id'> | undefined = await db('tenants').where({ name }).first('id');
  return row?.id;
}

export async function insertTenant(db: Db, name: string, tokenHash: string): Promise<Tenant> {
  const now = Date.now();
  const [row] = await db('tenants')
    .insert({ name, token_hash: tokenHash, enabled: true, settings: '{}', created_at: now, updated_at: now })
    .returning(['id', 'name', 'enabled', 'token_hash', 'created_at', 'old_token_hash', 'old_token_valid_until']);
  return toTenant(row as TenantRow);
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

/** Changes a tenant's row; false when there is no tenant with that id. */
export async function updateTenant(db: Db, id: number, changes: { enabled?: boolean; settings?: string }): Promise<boolean> {
  const changed = await db('tenants')
    .where({ id })
    .update({
      ...(changes.enabled !== undefined && { enabled: changes.enabled }),
      ...(changes.settings !== undefined && { settings: changes.settings }),
      updated_at: Date.now(),
    });
  return changed > 0;
}

/**
 * Gives the tenant a new token hash; the current one stays valid until keepOldUntil (epoch ms), or stops with the
 * next reload when that is undefined. A token replaced earlier and still in its grace stops too: one old token at most.
 * False when there is no tenant with that id.
 */
export async function replaceTokenHash(db: Db, id: number, tokenHash: string, keepOldUntil: number | undefined): Promise<boolean> {
  const changed = await db('tenants')
    .where({ id })
    .update({
      // SET reads the row as it was, so the old column gets the hash being replaced (SQLite and PostgreSQL alike).
      old_token_hash: keepOldUntil === undefined ? null : db.ref('token_hash'),
      old_token_valid_until: keepOldUntil ?? null,
      token_hash: tokenHash,
      updated_at: Date.now(),
    });
  return changed > 0;
}

export async function loadTenantCredentialRows(db: Db): Promise<TenantCredentialRow[]> {
  const rows: TenantRow[] = await db('tenants').select('id', 'token_hash', 'enabled', 'settings', 'old_token_hash', 'old_token_valid_until');
  return rows.map((row) => ({ id: row.id, tokenHash: row.token_hash, enabled: Boolean(row.enabled), settings: row.settings, oldToken: validOldToken(row) }));
}

/** The tenant's settings as stored (JSON text), or undefined when there is no such tenant. */
export async function storedSettings(db: Db, id: number): Promise<string | undefined> {
  const row: Pick<TenantRow, 'settings'> | undefined = await db('tenants').where({ id }).first('settings');
  return row?.settings;
}
