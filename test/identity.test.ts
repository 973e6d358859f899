import assert from 'node:assert/strict';
import { countRows, TEST_DATABASE_NAME } from './support/testEnv';
import { newTenant } from './support/daemon';
import { useStore } from './support/fixtures';
import { Db } from '../src/store/db';
import { readInfo } from '../src/store/activityInfo';
import { writeBatch } from '../src/process/writeBatch';
import { ActivityEvent } from '../src/normalize/activityEvent';

let sequence = 0;
function event(fields: Partial<ActivityEvent>): ActivityEvent {
  sequence += 1;
  return { action: 'act', date: 1700000000000, count: 1, weight: 1, info: {}, insertId: `ins-${sequence}`, ...fields };
}

describe(`identity resolution and storage (real ${TEST_DATABASE_NAME})`, () => {
  let db: Db;
  let tenantId: number;
  useStore((parts) => ({ db, tenantId } = parts));

  const write = (...events: ActivityEvent[]) => writeBatch(db, [{ tenantId, receivedAt: Date.now(), events }]);
  const users = () => db('end_users').where({ tenant_id: tenantId }).orderBy('id');

  it('rule 1: an externalId finds the user with that externalId', async () => {
    await write(event({ externalId: 'u1' }));
    await write(event({ externalId: 'u1' }));
    assert.equal((await users()).length, 1);
    assert.equal(await countRows(db, 'activities'), 2);
  });

  it('rule 1: else the user with that email and no externalId adopts the externalId', async () => {
    await write(event({ email: 'ann@example.com' }));
    await write(event({ externalId: 'u1', email: 'ann@example.com' }));
    const rows = await users();
    assert.equal(rows.length, 1);
    assert.equal(rows[0].external_id, 'u1');
    assert.equal(rows[0].email, 'ann@example.com');
  });

  it('rule 1: a user with that email but another externalId is not adopted; a new user is made', async () => {
    await write(event({ externalId: 'u1', email: 'shared@example.com' }));
    await write(event({ externalId: 'u2', email: 'shared@example.com' }));
    const rows = await users();
    assert.deepEqual(rows.map((row) => row.external_id), ['u1', 'u2']);
  });

  it('rule 2: only an email finds the user with that email, else a new one', async () => {
    await write(event({ externalId: 'u1', email: 'ann@example.com' }));
    await write(event({ email: 'ann@example.com' }));
    await write(event({ email: 'bob@example.com' }));
    const rows = await users();
    assert.deepEqual(rows.map((row) => [row.external_id, row.email]), [['u1', 'ann@example.com'], [null, 'bob@example.com']]);
    const activities = await db('activities').orderBy('id');
    assert.deepEqual(activities.map((row) => row.end_user_id), [rows[0].id, rows[0].id, rows[1].id]);
  });

  it('a found user gains the email and name it lacked, and keeps the ones it had', async () => {
    await write(event({ externalId: 'u1' }));
    await write(event({ externalId: 'u1', email: 'ann@example.com', name: 'Ann' }));
    await write(event({ externalId: 'u1', email: 'other@example.com', name: 'Someone Else' }));
    const [row] = await users();
    assert.equal(row.email, 'ann@example.com');
    assert.equal(row.name, 'Ann');
  });

  it('companyExternalId finds or creates the company, and a user without a company gets it', async () => {
    await write(event({ externalId: 'u1', companyExternalId: 'acme' }));
    await write(event({ externalId: 'u1', companyExternalId: 'globex' }));
    const companies = await db('companies').where({ tenant_id: tenantId }).orderBy('id');
    assert.deepEqual(companies.map((row) => row.external_id), ['acme', 'globex']);
    const [user] = await users();
    assert.equal(user.company_id, companies[0].id, 'the first company stays the user\'s');
    const activities = await db('activities').orderBy('id');
    assert.deepEqual(activities.map((row) => row.company_id), [companies[0].id, companies[1].id]);
  });

  it('within one batch, one new person referenced many times becomes one user', async () => {
    const events = Array.from({ length: 20 }, (_, i) => event(i % 2 ? { externalId: 'p1', email: 'p1@example.com' } : { email: 'p1@example.com' }));
    await write(...events);
    const rows = await users();
    assert.equal(rows.length, 1, JSON.stringify(rows));
    assert.equal(rows[0].external_id, 'p1');
  });

  it('a repeated insertId stores one activity and reports the repeat as a duplicate', async () => {
    const first = await write(event({ externalId: 'u1', insertId: 'same' }), event({ externalId: 'u1', insertId: 'same' }));
    const second = await write(event({ externalId: 'u1', insertId: 'same' }));
    assert.deepEqual(first, [['stored', 'duplicate']]);
    assert.deepEqual(second, [['duplicate']]);
    assert.equal(await countRows(db, 'activities'), 1);
  });

  it('keeps tenants apart: the same externalId and insertId in two tenants are two users and two activities', async () => {
    const other = (await newTenant(db)).id;
    await writeBatch(db, [
      { tenantId, receivedAt: 1, events: [event({ externalId: 'u1', insertId: 'x' })] },
      { tenantId: other, receivedAt: 1, events: [event({ externalId: 'u1', insertId: 'x' })] },
    ]);
    assert.equal(await countRows(db, 'end_users'), 2);
    assert.equal(await countRows(db, 'activities'), 2);
  });

  it('stores every activity field', async () => {
    await write(event({ externalId: 'u1', action: 'login', date: 1650000000000, count: 2, weight: 0.5, info: { a: [1, 'b'] }, insertId: 'full' }));
    const [row] = await db('activities');
    assert.equal(row.action, 'login');
    assert.equal(Number(row.date), 1650000000000);
    assert.equal(row.count, 2);
    assert.equal(row.weight, 0.5);
    assert.deepEqual(readInfo(row), { a: [1, 'b'] });
    assert.equal(row.insert_id, 'full');
  });
});
