/** A rotated token may stay valid for a grace period: the tenant keeps the previous token's hash and when it stops. */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('tenants', (table) => {
    table.string('old_token_hash', 64);
    // Epoch milliseconds; null with old_token_hash null: no previous token is valid.
    table.bigInteger('old_token_valid_until');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('tenants', (table) => {
    table.dropColumn('old_token_hash');
    table.dropColumn('old_token_valid_until');
  });
}
