import type { Knex } from 'knex';

// A delivery keeps its first 100 rejection reasons; this is how many there were in all (null: a record from before).
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('deliveries', (table) => {
    table.integer('rejected_count');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('deliveries', (table) => {
    table.dropColumn('rejected_count');
  });
}
