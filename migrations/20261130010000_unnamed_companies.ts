/** Companies no event has named yet have no name (NULL, read as their externalId), so the first event that names one sets it. */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  // Until now a company made without a name was stored named by its externalId: those can still get their first name.
  await knex('companies').whereRaw('name = external_id').update({ name: null });
}

export async function down(knex: Knex): Promise<void> {
  await knex('companies').whereNull('name').update({ name: knex.ref('external_id') });
}
