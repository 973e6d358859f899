/** Whether a job's tenant exists, asked of the database once per tenant and process: tenants are never deleted, so a yes stays true. */
import type { Db } from '../store/db';
import { getTenant } from '../store/tenants';

export type TenantCheck = (tenantId: number) => Promise<boolean>;

export function createTenantCheck(db: Db): TenantCheck {
  const known = new Set<number>();
  return async (tenantId) => {
    if (known.has(tenantId)) return true;
    if (!(await getTenant(db, tenantId))) return false;
    known.add(tenantId);
    return true;
  };
}
