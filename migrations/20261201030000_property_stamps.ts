/**
 * Next to each end user's and company's properties, the arrival stamp of the update that last assigned each key (and
 * of the last $clearAll): updates reach the database out of arrival order (several workers), and an assignment older
 * than a key's last one must change nothing. Existing rows get {}: no stamps, so the next update of each key wins.
 */
import type { Knex } from 'knex';

const TABLES = ['end_users', 'companies'];

export async function up(knex: Knex): Promise<void> {
  const postgres = knex.client.config.client === 'pg';
  for (const table of TABLES) {
    await knex.schema.alterTable(table, (builder) => {
      if (postgres) builder.jsonb('property_stamps').notNullable().defaultTo(knex.raw("'{}'::jsonb"));
      else builder.text('property_stamps').notNullable().defaultTo('{}');
    });
  }
}

export async function down(knex: Knex): Promise<void> {
  for (const table of TABLES) await knex.schema.alterTable(table, (builder) => void builder.dropColumn('property_stamps'));
}
