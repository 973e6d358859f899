/**
 * Migration 20261201000000 on a database of the schema before it, holding rows: ids and cursors keep working past
 * 2^31 (and past 2^53 on PostgreSQL, where they read as exact text), new rows take 64-bit ids from the sequences,
 * and info becomes jsonb on PostgreSQL, reading back as it was sent, even what jsonb cannot hold.
 */
import assert from 'node:assert/strict';
import { createTestEnv, TestEnv, TEST_DATABASE } from './support/testEnv';
import { newTenant } from './support/daemon';
import { openDatabase, Db } from '../src/store/db';
import { migrationConfig } from '../src/store/migrate';
import { decodeCursor, listActivities, listEndUsers, RowId } from '../src/store/readQueries';
import { writeBatch } from '../src/process/writeBatch';

const BEFORE = '20261130030000_read_indexes.js';
const TWO_TO_31 = 2 ** 31;
const PAST_2_TO_53 = '9007199254740993';

/** As sent: a NUL and an unpaired surrogate (which jsonb refuses), keys in an order jsonb would not keep. */
const ODD_INFO = { z: 1, a: 'nul \u0000 and \ud800 alone', nested: { plan: 'pro', list: [1.5, null, true] } };
const PLAIN_INFO = { event_properties: { plan: 'enterprise', seats: 40 }, user_properties: { role: 'admin' } };

async function migrateUpTo(db: Db, last: string): Promise<void> {
  for (;;) {
    const [done] = await db.migrate.list(migrationConfig(db));
    if ((done as Array<{ name: string }>).some((migration) => migration.name === last)) return;
    await db.migrate.up(migrationConfig(db));
  }
}

async function pageAll(db: Db, tenantId: number, afterId: RowId, limit: number) {
  const ids: RowId[] = [];
  let request = { limit, afterId };
  for (;;) {
    const page = await listActivities(db, tenantId, {}, request);
    ids.push(...page.data.map((row) => row.id as RowId));
    if (page.nextCursor === null) return ids;
    request = { limit, afterId: decodeCursor(page.nextCursor) as RowId };
  }
}

describe('migration to 64-bit ids and jsonb info', function () {
  this.timeout(60000);
  let env: TestEnv;
  let db: Db;
  let tenantId: number;

  beforeEach(async () => {
    env = createTestEnv();
    db = openDatabase(env.config);
    await migrateUpTo(db, BEFORE);
    tenantId = (await newTenant(db)).id;
    const [user] = await db('end_users').insert({ tenant_id: tenantId, external_id: 'u-1', created_at: 1, updated_at: 1 }).returning('id');
    const activity = (insertId: string, info: unknown) => ({
      tenant_id: tenantId, end_user_id: user.id, action: 'Old', date: 1, count: 1, weight: 1, info: JSON.stringify(info), insert_id: insertId, received_at: 1,
    });
    await db('activities').insert([activity('old-1', PLAIN_INFO), activity('old-2', ODD_INFO), activity('old-3', PLAIN_INFO)]);
  });

  afterEach(async () => {
    await db.destroy();
    await env.cleanup();
  });

  it('converts a database of the previous schema: a cursor taken before pages on after it, and info reads back as sent', async () => {
    const first = await listActivities(db, tenantId, {}, { limit: 1, afterId: 0 });
    const cursor = first.nextCursor as string;
    await db.migrate.latest(migrationConfig(db));

    const rest = await pageAll(db, tenantId, decodeCursor(cursor) as RowId, 1);
    assert.deepEqual([first.data[0].id, ...rest], (await db('activities').orderBy('id').pluck('id')), 'every row once, in order, ids as numbers');
    assert.equal(typeof rest[0], 'number');
    const all = await listActivities(db, tenantId, {}, { limit: 10, afterId: 0 });
    assert.deepEqual(all.data.map((row) => row.info), [PLAIN_INFO, ODD_INFO, PLAIN_INFO]);
    if (TEST_DATABASE === 'postgres') {
      const { rows } = await db.raw("SELECT data_type FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'activities' AND column_name IN ('id', 'end_user_id', 'info') ORDER BY column_name");
      assert.deepEqual(rows.map((row: { data_type: string }) => row.data_type), ['bigint', 'bigint', 'jsonb']);
      const plans = await db('activities').where({ tenant_id: tenantId }).whereRaw("info->'event_properties'->>'plan' = ?", ['enterprise']).pluck('insert_id');
      assert.deepEqual(plans.sort(), ['old-1', 'old-3'], 'properties can be queried in SQL');
      const { rows: [compression] } = await db.raw(
        "SELECT attcompression AS used, (SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression') AS lz4 FROM pg_attribute WHERE attrelid = 'activities'::regclass AND attname = 'info'",
      );
      assert.equal(compression.used, compression.lz4 ? 'l' : '\u0000', 'info is compressed with lz4 where the server has it');
    }
  });

  it('ids past 2^31 come from the sequences and page with their cursors; past 2^53 on PostgreSQL they read as exact text', async () => {
    await db.migrate.latest(migrationConfig(db));
    if (TEST_DATABASE === 'postgres') {
      for (const [table, column] of [['activities', 'id'], ['end_users', 'id']]) await db.raw('SELECT setval(pg_get_serial_sequence(?, ?), ?)', [table, column, TWO_TO_31 + 10]);
    } else {
      await db.raw("UPDATE sqlite_sequence SET seq = ? WHERE name IN ('activities', 'end_users')", [TWO_TO_31 + 10]);
    }
    const event = (insertId: string, externalId: string) => ({ externalId, action: 'New', date: 2, count: 1, weight: 1, info: PLAIN_INFO, insertId });
    const outcomes = await writeBatch(db, [{ tenantId, receivedAt: 2, events: [event('new-1', 'u-1'), event('new-2', 'u-big')] }]);
    assert.deepEqual(outcomes, [['stored', 'stored']]);
    const created = await listEndUsers(db, tenantId, { externalId: 'u-big' }, { limit: 10, afterId: 0 });
    assert.equal(created.data[0].id, TWO_TO_31 + 11, 'a new person takes its id from a 64-bit sequence');

    const ids = await pageAll(db, tenantId, 0, 2);
    assert.deepEqual(ids.slice(-2), [TWO_TO_31 + 11, TWO_TO_31 + 12]);
    assert.deepEqual((await listActivities(db, tenantId, { externalId: 'u-big' }, { limit: 10, afterId: 0 })).data.map((row) => row.endUserId), [TWO_TO_31 + 11]);

    if (TEST_DATABASE !== 'postgres') return; // SQLite's driver reads integers as doubles: exact to 2^53, as before.
    const [user] = await db('end_users').where({ external_id: 'u-1' }).pluck('id');
    await db('activities').insert({ id: PAST_2_TO_53, tenant_id: tenantId, end_user_id: user, action: 'Huge', date: 3, count: 1, weight: 1, info: {}, insert_id: 'huge', received_at: 3 });
    const page = await listActivities(db, tenantId, {}, { limit: ids.length, afterId: 0 });
    assert.equal(page.nextCursor !== null, true);
    assert.equal(decodeCursor(page.nextCursor as string), TWO_TO_31 + 12);
    const last = await listActivities(db, tenantId, {}, { limit: 10, afterId: decodeCursor(page.nextCursor as string) as RowId });
    assert.deepEqual(last.data.map((row) => row.id), [PAST_2_TO_53], 'exact, as text');
    const beyond = await listActivities(db, tenantId, {}, { limit: 10, afterId: decodeCursor(Buffer.from(`id:${PAST_2_TO_53}`).toString('base64url')) as RowId });
    assert.deepEqual(beyond.data, [], 'a cursor past 2^53 compares exactly');
  });
});
