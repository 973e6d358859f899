/** Indexes in the order of each read API list route and its filters, so a page costs the same at any depth and tenant size. */
import type { Knex } from 'knex';

// Each list pages by id within one tenant: an index starting (tenant_id, filter column) and ending with the paging
// column hands the rows over already in page order, so no page sorts the tenant's rows first.
const INDEXES: Array<[table: string, columns: string[]]> = [
  ['activities', ['tenant_id', 'id']],
  ['activities', ['tenant_id', 'end_user_id', 'id']],
  ['activities', ['tenant_id', 'action', 'id']],
  ['activities', ['tenant_id', 'company_id', 'id']],
  ['activities', ['tenant_id', 'asset_id', 'id']],
  ['activities', ['tenant_id', 'project_id', 'id']],
  ['end_users', ['tenant_id', 'id']],
  ['end_users', ['tenant_id', 'company_id', 'id']],
  ['companies', ['tenant_id', 'id']],
  ['assets', ['tenant_id', 'id']],
  ['projects', ['tenant_id', 'id']],
  ['deliveries', ['tenant_id', 'status', 'seq']],
  // A page of deliveries counts its events' outcomes per delivery.
  ['delivery_events', ['delivery_id', 'outcome']],
];

const indexName = (table: string, columns: string[]) => `${table}_${columns.join('_')}_read`;

// Its place is taken by (tenant_id, end_user_id, id), which serves the same lookups: each index of activities costs
// every insert (this one a fifth of a batch's time on SQLite), so the shorter one goes.
const REPLACED: string[] = ['tenant_id', 'end_user_id'];

export async function up(knex: Knex): Promise<void> {
  for (const [table, columns] of INDEXES) await knex.schema.alterTable(table, (builder) => void builder.index(columns, indexName(table, columns)));
  await knex.schema.alterTable('activities', (builder) => void builder.dropIndex(REPLACED));
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('activities', (builder) => void builder.index(REPLACED));
  for (const [table, columns] of INDEXES) await knex.schema.alterTable(table, (builder) => void builder.dropIndex(columns, indexName(table, columns)));
}
