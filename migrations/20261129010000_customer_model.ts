import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('company_domains', (table) => {
    table.increments('id').primary();
    table.integer('tenant_id').notNullable().references('tenants.id');
    table.integer('company_id').notNullable().references('companies.id');
    table.string('domain', 255).notNullable();
    /** "admin" (given) or "learned" (from a user's business email). */
    table.string('source', 16).notNullable();
    table.unique(['tenant_id', 'company_id', 'domain']);
    table.index(['tenant_id', 'domain']);
  });

  for (const name of ['assets', 'projects']) {
    await knex.schema.createTable(name, (table) => {
      table.increments('id').primary();
      table.integer('tenant_id').notNullable().references('tenants.id');
      table.integer('company_id').references('companies.id');
      table.string('external_id', 255).notNullable();
      table.string('name', 1000);
      table.bigInteger('created_at').notNullable();
      table.unique(['tenant_id', 'external_id']);
    });
  }

  await knex.schema.alterTable('activities', (table) => {
    table.integer('asset_id').references('assets.id');
    table.integer('project_id').references('projects.id');
  });

  // Events dropped by a tenant's action filter: counted per action, so a misconfigured filter shows.
  await knex.schema.createTable('filtered_actions', (table) => {
    table.integer('tenant_id').notNullable().references('tenants.id');
    table.string('action', 255).notNullable();
    table.bigInteger('count').notNullable();
    table.bigInteger('last_seen_at').notNullable();
    table.primary(['tenant_id', 'action']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('filtered_actions');
  await knex.schema.alterTable('activities', (table) => {
    table.dropColumn('project_id');
    table.dropColumn('asset_id');
  });
  await knex.schema.dropTable('projects');
  await knex.schema.dropTable('assets');
  await knex.schema.dropTable('company_domains');
}
