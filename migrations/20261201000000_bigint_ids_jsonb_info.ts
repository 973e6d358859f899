/**
 * PostgreSQL: ids of every table that grows with traffic become bigint (with the columns that point at them and the
 * sequences that make them), and activities.info becomes jsonb, so properties can be queried in SQL. SQLite's
 * INTEGER is 64-bit already and info stays text there: nothing to do.
 */
import type { Knex } from 'knex';
import { JSONB_REFUSED_ESCAPE } from '../src/store/activityInfo';

// Tenants and the tables keyed by tenant stay integer: they grow with admin work, not with traffic.
const WIDENED: Array<[table: string, columns: string[]]> = [
  ['companies', ['id']],
  ['end_users', ['id', 'company_id']],
  ['company_domains', ['id', 'company_id']],
  ['assets', ['id', 'company_id']],
  ['projects', ['id', 'company_id']],
  ['activities', ['id', 'end_user_id', 'company_id', 'asset_id', 'project_id']],
  ['deliveries', ['seq']],
];

/** Each table's own serial column, whose sequence stops at 2^31 - 1 until it is made bigint too. */
const SERIALS: Array<[table: string, column: string]> = WIDENED.map(([table, columns]) => [table, columns[0]]);

async function setColumnTypes(knex: Knex, type: 'bigint' | 'integer'): Promise<void> {
  for (const [table, columns] of WIDENED) {
    await knex.raw(`ALTER TABLE ?? ${columns.map(() => 'ALTER COLUMN ?? TYPE ' + type).join(', ')}`, [table, ...columns]);
  }
  for (const [table, column] of SERIALS) {
    const { rows } = await knex.raw('SELECT pg_get_serial_sequence(?, ?) AS name', [table, column]);
    await knex.raw(`ALTER SEQUENCE ${rows[0].name} AS ${type}`);
  }
}

export async function up(knex: Knex): Promise<void> {
  if (knex.client.config.client !== 'pg') return;
  await setColumnTypes(knex, 'bigint');
  await knex.schema.alterTable('activities', (table) => void table.text('info_text'));
  // What jsonb cannot hold keeps its exact text beside it (store/activityInfo.ts).
  await knex.raw(`UPDATE activities SET info_text = info WHERE info ~ '${JSONB_REFUSED_ESCAPE}'`);
  await knex.raw(
    `ALTER TABLE activities ALTER COLUMN info TYPE jsonb USING (CASE WHEN info_text IS NULL THEN info ELSE regexp_replace(info, '${JSONB_REFUSED_ESCAPE}', '\\\\ufffd', 'g') END)::jsonb`,
  );
  // An export record's info (about 2 KB) is compressed as it is stored; lz4 does it in about half pglz's time (a
  // 5,000-event batch's insert: a quarter less server time). Servers built without lz4 keep pglz.
  const { rows } = await knex.raw("SELECT 'lz4' = ANY(enumvals) AS lz4 FROM pg_settings WHERE name = 'default_toast_compression'");
  if (rows[0]?.lz4) await knex.raw('ALTER TABLE activities ALTER COLUMN info SET COMPRESSION lz4');
}

export async function down(knex: Knex): Promise<void> {
  if (knex.client.config.client !== 'pg') return;
  await knex.raw('ALTER TABLE activities ALTER COLUMN info TYPE text USING COALESCE(info_text, info::text)');
  await knex.schema.alterTable('activities', (table) => void table.dropColumn('info_text'));
  await setColumnTypes(knex, 'integer');
}
