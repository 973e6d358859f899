/**
 * The tenant verbs as the admin API and the CLI both call them, free of HTTP and of the command line, so a verb is
 * written once: tenants/tenantAccounts' rules (names, tokens, settings) plus the reads and the combined update both
 * callers answer with. Failures are thrown typed: TenantError (not found, name taken, invalid) and SettingError.
 */
import type { Db } from '../store/db';
import { getTenant, listTenants, Tenant } from '../store/tenants';
import { changeTenantSettings, createTenant, getTenantSettings, rotateTenantToken, setTenantEnabled, TenantError } from '../tenants/tenantAccounts';
import type { TenantSettings } from '../tenants/settings';

export { changeTenantSettings, createTenant, listTenants, rotateTenantToken, setTenantEnabled };

export interface TenantDetail extends Tenant {
  settings: TenantSettings;
}

export async function requireTenant(db: Db, id: number): Promise<Tenant> {
  const tenant = await getTenant(db, id);
  if (!tenant) throw new TenantError(`no tenant with id ${id}`, 'not_found');
  return tenant;
}

export async function showTenant(db: Db, id: number): Promise<TenantDetail> {
  const tenant = await requireTenant(db, id);
  return { ...tenant, settings: await getTenantSettings(db, id) };
}

/** Settings first, then enabled: a refused setting leaves the tenant as it was. */
export async function updateTenant(db: Db, id: number, update: { enabled?: boolean; settings?: Record<string, string> }): Promise<TenantDetail> {
  await requireTenant(db, id);
  if (update.settings !== undefined) await changeTenantSettings(db, id, update.settings);
  if (update.enabled !== undefined) await setTenantEnabled(db, id, update.enabled);
  return showTenant(db, id);
}
