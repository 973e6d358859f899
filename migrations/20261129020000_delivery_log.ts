import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  // One row per ingest request of a known tenant, written by the worker (never on the request path).
  await knex.schema.createTable('deliveries', (table) => {
    table.increments('seq').primary();
    table.string('id', 36).notNullable().unique();
    table.integer('tenant_id').notNullable().references('tenants.id');
    table.bigInteger('received_at').notNullable();
    table.string('endpoint', 32).notNullable();
    table.string('user_agent', 500);
    table.integer('status').notNullable();
    table.integer('accepted').notNullable();
    table.text('rejected').notNullable();
    table.index(['tenant_id', 'seq']);
    table.index(['received_at']);
  });
  // Outcomes of accepted events other than "stored" (a stored event is the activity carrying its delivery).
  await knex.schema.createTable('delivery_events', (table) => {
    table.string('delivery_id', 36).notNullable();
    table.integer('event_index').notNullable();
    table.string('insert_id', 255).notNullable();
    table.string('outcome', 16).notNullable();
    table.text('error');
    table.bigInteger('at').notNullable();
    table.primary(['delivery_id', 'event_index']);
  });
  await knex.schema.alterTable('activities', (table) => {
    table.string('delivery_id', 36);
    table.integer('delivery_index');
    table.bigInteger('stored_at');
    table.index(['delivery_id']);
    table.index(['stored_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('activities', (table) => {
    table.dropIndex(['stored_at']);
    table.dropIndex(['delivery_id']);
    table.dropColumn('stored_at');
    table.dropColumn('delivery_index');
    table.dropColumn('delivery_id');
  });
  await knex.schema.dropTable('delivery_events');
  await knex.schema.dropTable('deliveries');
}
