/**
 * End users and companies carry their current properties (Amplitude's user and group properties, with its
 * operations applied): jsonb on PostgreSQL, JSON text on SQLite, an empty object for every existing row. Identify
 * and group identify events store no activity, so the insert ids of the ones applied are kept here instead: a
 * redelivered one must not apply its operations ($add) twice.
 */
import type { Knex } from 'knex';

const TABLES = ['end_users', 'companies'];

export async function up(knex: Knex): Promise<void> {
  const postgres = knex.client.config.client === 'pg';
  for (const table of TABLES) {
    await knex.schema.alterTable(table, (builder) => {
      // NOT NULL with a default: existing rows get {} as the column is added, on both databases.
      if (postgres) builder.jsonb('properties').notNullable().defaultTo(knex.raw("'{}'::jsonb"));
      else builder.text('properties').notNullable().defaultTo('{}');
    });
  }
  // The read API's filter on one end-user property (properties @> {"plan": "Enterprise"}); SQLite has no such
  // index and reads the tenant's end users (docs/performance.md).
  if (postgres) await knex.raw('CREATE INDEX end_users_properties_read ON end_users USING GIN (properties jsonb_path_ops)');
  await knex.schema.createTable('applied_updates', (table) => {
    table.integer('tenant_id').notNullable().references('tenants.id');
    table.string('insert_id', 255).notNullable();
    table.bigInteger('applied_at').notNullable();
    table.primary(['tenant_id', 'insert_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('applied_updates');
  if (knex.client.config.client === 'pg') await knex.raw('DROP INDEX end_users_properties_read');
  for (const table of TABLES) await knex.schema.alterTable(table, (builder) => void builder.dropColumn('properties'));
}
