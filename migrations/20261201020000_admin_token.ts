/** The admin token made on first start (when ADMIN_TOKEN is not set): one row, its SHA-256 hash only. */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('admin_token', (table) => {
    // Always 1: the primary key lets only one of several processes starting at once on this database make it.
    table.integer('id').primary();
    table.string('token_hash', 64).notNullable();
    table.bigInteger('created_at').notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('admin_token');
}
