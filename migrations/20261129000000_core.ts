import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('tenants', (table) => {
    table.increments('id').primary();
    table.string('name', 100).notNullable().unique();
    table.string('token_hash', 64).notNullable().unique();
    table.boolean('enabled').notNullable().defaultTo(true);
    table.text('settings').notNullable().defaultTo('{}');
    table.bigInteger('created_at').notNullable();
    table.bigInteger('updated_at').notNullable();
  });

  // One row that every SQLite writer updates first, so a write transaction holds the file's write lock from its start.
  await knex.schema.createTable('write_lock', (table) => {
    table.integer('id').primary();
    table.bigInteger('generation').notNullable();
  });
  await knex('write_lock').insert({ id: 1, generation: 0 });

  await knex.schema.createTable('companies', (table) => {
    table.increments('id').primary();
    table.integer('tenant_id').notNullable().references('tenants.id');
    table.string('external_id', 255).notNullable();
    table.string('name', 1000);
    table.bigInteger('created_at').notNullable();
    table.unique(['tenant_id', 'external_id']);
  });

  await knex.schema.createTable('end_users', (table) => {
    table.increments('id').primary();
    table.integer('tenant_id').notNullable().references('tenants.id');
    table.string('external_id', 255);
    table.string('email', 320);
    table.string('name', 1000);
    table.integer('company_id').references('companies.id');
    table.bigInteger('created_at').notNullable();
    table.bigInteger('updated_at').notNullable();
    table.unique(['tenant_id', 'external_id']);
    table.index(['tenant_id', 'email']);
  });
  // A person known only by email exists once per tenant; the unique index is the arbiter when workers race.
  await knex.raw(
    'CREATE UNIQUE INDEX end_users_email_without_external_id ON end_users (tenant_id, email) WHERE external_id IS NULL',
  );

  await knex.schema.createTable('activities', (table) => {
    table.increments('id').primary();
    table.integer('tenant_id').notNullable().references('tenants.id');
    table.integer('end_user_id').notNullable().references('end_users.id');
    table.integer('company_id').references('companies.id');
    table.string('action', 255).notNullable();
    table.bigInteger('date').notNullable();
    table.double('count').notNullable();
    table.double('weight').notNullable();
    table.text('info').notNullable();
    table.string('insert_id', 255).notNullable();
    table.bigInteger('received_at').notNullable();
    table.unique(['tenant_id', 'insert_id']);
    table.index(['tenant_id', 'end_user_id']);
    table.index(['tenant_id', 'date']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('activities');
  await knex.schema.dropTable('end_users');
  await knex.schema.dropTable('companies');
  await knex.schema.dropTable('write_lock');
  await knex.schema.dropTable('tenants');
}
