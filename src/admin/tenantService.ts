/**
 * Tenant administration free of HTTP and of the command line: the admin API and the CLI both call these, so a tenant
 * verb is written once. Failures are thrown typed: TenantError (not found, name taken, invalid) and SettingError.
 */
import type { Db } from '../store/db';
import * as tenants from '../store/tenants';
import { Tenant, TenantError } from '../store/tenants';
import type { TenantSettings } from '../tenants/settings';

export interface TenantDetail extends Tenant {
  settings: TenantSettings;
}

/** Makes a tenant; the token is returned here and at rotation only (the database keeps its hash). */
export async function createTenant(db: Db, name: unknown): Promise<Tenant & { token: string }> {
  return tenants.createTenant(db, tenants.validateTenantName(name));
}

export function listTenants(db: Db): Promise<Tenant[]> {
  return tenants.listTenants(db);
}

export async function requireTenant(db: Db, id: number): Promise<Tenant> {
  const tenant = await tenants.getTenant(db, id);
  if (!tenant) throw new TenantError(`no tenant with id ${id}`, 'not_found');
  return tenant;
}

export async function showTenant(db: Db, id: number): Promise<TenantDetail> {
  const tenant = await requireTenant(db, id);
  return { ...tenant, settings: await tenants.getTenantSettings(db, id) };
}

export function setTenantEnabled(db: Db, id: number, enabled: boolean): Promise<Tenant> {
  return tenants.setTenantEnabled(db, id, enabled);
}

/** `key=value` changes as text (an empty value resets the key); all are checked before any is stored. */
export function changeTenantSettings(db: Db, id: number, changes: Record<string, string>): Promise<TenantSettings> {
  return tenants.changeTenantSettings(db, id, changes);
}

/** Settings first, then enabled: a refused setting leaves the tenant as it was. */
export async function updateTenant(db: Db, id: number, update: { enabled?: boolean; settings?: Record<string, string> }): Promise<TenantDetail> {
  await requireTenant(db, id);
  if (update.settings !== undefined) await changeTenantSettings(db, id, update.settings);
  if (update.enabled !== undefined) await setTenantEnabled(db, id, update.enabled);
  return showTenant(db, id);
}

/** A new token; the old one stops working as each receiver reloads tenants. */
export function rotateTenantToken(db: Db, id: number): Promise<{ id: number; token: string }> {
  return tenants.rotateTenantToken(db, id);
}
