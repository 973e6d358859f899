/** Activities in SQL, for the worker: which insert ids a tenant has stored, and the multi-row insert. */
import type { Knex } from 'knex';
import { dialectOf, Db } from './db';
import { inValues, insertRowsSkippingConflicts } from './manyValues';
import { infoColumns } from './activityInfo';

export interface NewActivity {
  tenantId: number;
  endUserId: number;
  companyId: number | null;
  assetId: number | null;
  projectId: number | null;
  action: string;
  date: number;
  count: number;
  weight: number;
  info: Record<string, unknown>;
  insertId: string;
  receivedAt: number;
  storedAt: number;
  deliveryId: string | null;
  deliveryIndex: number | null;
}

const ACTIVITY_COLUMNS = [
  'tenant_id', 'end_user_id', 'company_id', 'asset_id', 'project_id', 'action', 'date', 'count', 'weight', 'info', 'insert_id', 'received_at', 'stored_at', 'delivery_id', 'delivery_index',
];

export async function storedInsertIds(trx: Knex.Transaction, tenantId: number, insertIds: string[]): Promise<Set<string>> {
  const stored: Array<{ insert_id: string }> = await trx('activities').where({ tenant_id: tenantId }).whereRaw(...inValues(trx, 'insert_id', insertIds)).select('insert_id');
  return new Set(stored.map((row) => row.insert_id));
}

/** An insert id stored meanwhile by another worker is skipped, not an error: the unique key is the arbiter. */
export async function insertActivities(trx: Knex.Transaction, activities: NewActivity[]): Promise<void> {
  const dialect = dialectOf(trx);
  const rows = activities.map((activity) => ({
    tenant_id: activity.tenantId,
    end_user_id: activity.endUserId,
    company_id: activity.companyId,
    asset_id: activity.assetId,
    project_id: activity.projectId,
    action: activity.action,
    date: activity.date,
    count: activity.count,
    weight: activity.weight,
    ...infoColumns(dialect, activity.info),
    insert_id: activity.insertId,
    received_at: activity.receivedAt,
    stored_at: activity.storedAt,
    delivery_id: activity.deliveryId,
    delivery_index: activity.deliveryIndex,
  }));
  const columns = dialect === 'postgres' ? [...ACTIVITY_COLUMNS, 'info_text'] : ACTIVITY_COLUMNS;
  await insertRowsSkippingConflicts(trx, 'activities', columns, rows, ['tenant_id', 'insert_id']);
}

/** Activities stored since `since` (epoch ms), all tenants: `activityd status`'s throughput. */
export async function countStoredSince(db: Db, since: number): Promise<number> {
  const [{ n }] = await db('activities').where('stored_at', '>=', since).count({ n: '*' });
  return Number(n);
}
