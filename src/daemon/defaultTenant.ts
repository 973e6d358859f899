/** On the very first start, a tenant "default" and the one message that shows its token. */
import type { Config } from '../../config';
import { publicBaseUrl } from '../../config';
import type { Db } from '../store/db';
import { countTenants } from '../store/tenants';
import { createTenant, TenantError } from '../tenants/tenantAccounts';

/** The tenant made on the very first start, whose token is shown once, by `firstStartMessage`. */
export interface DefaultTenant {
  id: number;
  token: string;
}

export async function createDefaultTenantIfEmpty(db: Db, config: Config): Promise<DefaultTenant | undefined> {
  if (!config.CREATE_DEFAULT_TENANT || (await countTenants(db)) > 0) return undefined;
  let tenant;
  try {
    tenant = await createTenant(db, 'default');
  } catch (error) {
    // Another process starting at the same moment created it first.
    if (error instanceof TenantError && error.code === 'conflict') return undefined;
    throw error;
  }
  return { id: tenant.id, token: tenant.token };
}

/** The one message that shows the token, with the port the receiver really listens on (PORT=0 picks one). */
export function firstStartMessage(tenant: DefaultTenant, config: Config, port: number): string {
  const base = publicBaseUrl(config, port);
  return [
    '',
    `activityd: created tenant "default" (id ${tenant.id}). Its token is shown only this once; keep it secret.`,
    `  token:      ${tenant.token}`,
    `  ingest URL: ${base}/analytics/${tenant.token}`,
    `  bulk URL:   ${base}/analytics/bulk/${tenant.token}`,
    '  Amplitude:  Data > Destinations > Webhook; paste the ingest URL (or use the base URL with the header',
    `              "Authorization: Bearer ${tenant.token}").`,
    '',
  ].join('\n');
}
