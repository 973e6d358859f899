/** A batch of events ends as writing them one at a time in arrival order would: it sees its own identity changes, and a company takes the first name given. */
import assert from 'node:assert/strict';
import { waitFor, countRows, ADMIN_TOKEN, TEST_DATABASE_NAME } from './support/testEnv';
import { newTenant, InProcessDaemon } from './support/daemon';
import { post, request } from './support/http';
import { useDaemon, useStore } from './support/fixtures';
import { Db } from '../src/store/db';
import { writeBatch } from '../src/process/writeBatch';
import type { ActivityEvent } from '../src/normalize/activityEvent';

const oldMailbox = { email: 'ann@gmail.com', action: 'Old mailbox', insertId: 'old-1' };
const moveAnn = { event_type: '$identify', user_id: 'x', insert_id: 'move-1', user_properties: { $set: { email: 'ann.new@gmail.com' } }, groups: { company: 'cnew' } };
const named = (user: string, company: string, name: string, insertId: string) => ({
  event_type: 'Open', user_id: user, insert_id: insertId, user_properties: { name: user }, groups: { company }, group_properties: { company: { name } },
});

describe(`arrival order within a request, over HTTP (real ${TEST_DATABASE_NAME})`, () => {
  let db: Db;
  let daemon: InProcessDaemon;
  let tenant: { id: number; token: string };
  useDaemon({}, (parts) => ({ db, daemon } = parts));

  beforeEach(async () => {
    tenant = await newTenant(db);
    await waitFor('tenant known', async () => (await post(ingestUrl(), { externalId: 'warmup', action: 'warmup', insertId: 'warm' })).status === 202, 5000);
    await waitFor('the warmup activity', async () => (await countRows(db, 'activities', { tenant_id: tenant.id })) === 1);
  });

  const ingestUrl = () => `${daemon.baseUrl}/analytics/${tenant.token}`;
  /** Sends one request and waits until the worker has stored `expectActivities` more activities (an identify stores none). */
  async function send(events: unknown[], expectActivities: number) {
    const before = await countRows(db, 'activities', { tenant_id: tenant.id });
    const reply = await post(ingestUrl(), events);
    assert.equal(reply.status, 202, reply.text);
    await waitFor(`${expectActivities} activities`, async () => (await countRows(db, 'activities', { tenant_id: tenant.id })) === before + expectActivities);
  }
  const ownerOf = async (insertId: string) =>
    db('activities as a').join('end_users as u', 'u.id', 'a.end_user_id').leftJoin('companies as c', 'c.id', 'a.company_id').where({ 'a.tenant_id': tenant.id, 'a.insert_id': insertId })
      .first('u.external_id', 'u.email', 'c.external_id as company');
  const companyName = async (externalId: string) => ((await db('companies').where({ tenant_id: tenant.id, external_id: externalId }).first('name')) as { name: string | null }).name;

  it('an identify that moves a person to a new email, then an event with the old email in the same request: the old email no longer finds them', async () => {
    await send([{ externalId: 'x', email: 'ann@gmail.com', action: 'Signup', insertId: 'signup-1' }], 1);
    await send([moveAnn, oldMailbox], 1);
    assert.deepEqual(await ownerOf('old-1'), { external_id: null, email: 'ann@gmail.com', company: null }, 'the old mailbox is a new person, with no company');
    const x = await db('end_users as u').leftJoin('companies as c', 'c.id', 'u.company_id').where({ 'u.tenant_id': tenant.id, 'u.external_id': 'x' }).first('u.email', 'c.external_id as company');
    assert.deepEqual(x, { email: 'ann.new@gmail.com', company: 'cnew' });
  });

  it('two events naming one new company: it takes the first name, as its person does', async () => {
    await send([named('ann', 'c1', 'Group of Ann', 'n-1'), named('ann', 'c1', 'Group of Bob', 'n-2')], 2);
    assert.equal(await companyName('c1'), 'Group of Ann');
    assert.equal((await db('end_users').where({ tenant_id: tenant.id, external_id: 'ann' }).first('name')).name, 'ann');
  });

  it('a Planhat event naming a company without a name, after a group-named one, leaves the name', async () => {
    await send([named('bob', 'c2', 'Named Two', 'p-1'), { externalId: 'bob', companyExternalId: 'c2', action: 'Planhat', insertId: 'p-2' }], 2);
    assert.equal(await companyName('c2'), 'Named Two');
  });

  it('a company made without a name reads as its externalId until a later request names it; that first name stays', async () => {
    await send([{ externalId: 'carl', companyExternalId: 'c3', action: 'Planhat', insertId: 'u-1' }], 1);
    const listed = (await request(`${daemon.baseUrl}/api/v1/tenants/${tenant.id}/companies`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).body.data;
    assert.deepEqual(listed.map((row: { externalId: string; name: string }) => [row.externalId, row.name]), [['c3', 'c3']]);
    await send([named('carl', 'c3', 'Third', 'u-2')], 1);
    await send([named('carl', 'c3', 'Not Third', 'u-3')], 1);
    assert.equal(await companyName('c3'), 'Third');
  });
});

describe(`arrival order across jobs written in one batch (real ${TEST_DATABASE_NAME})`, () => {
  let db: Db;
  let tenantId: number;
  useStore((parts) => ({ db, tenantId } = parts));

  let sequence = 0;
  const event = (fields: Partial<ActivityEvent>): ActivityEvent => ({ action: 'act', date: 1700000000000, count: 1, weight: 1, info: {}, insertId: `job-${(sequence += 1)}`, ...fields });
  /** Each list of events is one queue job; all of them are written in one transaction, as the group commit does. */
  const writeJobs = (...jobs: ActivityEvent[][]) => writeBatch(db, jobs.map((events) => ({ tenantId, receivedAt: Date.now(), events })));

  it('an identify in one job moves a person to a new email; an event of the next job with the old email is a new person', async () => {
    await writeJobs([event({ externalId: 'x', email: 'ann@gmail.com' })]);
    const outcomes = await writeJobs(
      [event({ kind: 'identify', externalId: 'x', email: 'ann.new@gmail.com', companyExternalId: 'cnew', action: '$identify' })],
      [event({ email: 'ann@gmail.com', insertId: 'old-1' })],
    );
    assert.deepEqual(outcomes, [['identified'], ['stored']]);
    const owner = await db('activities as a').join('end_users as u', 'u.id', 'a.end_user_id').where({ 'a.insert_id': 'old-1' }).first('u.external_id', 'u.email', 'a.company_id');
    assert.deepEqual(owner, { external_id: null, email: 'ann@gmail.com', company_id: null });
  });

  it('two jobs name one new company: the first job\'s name is kept', async () => {
    await writeJobs([event({ externalId: 'ann', companyExternalId: 'c1', companyName: 'Group of Ann' })], [event({ externalId: 'bob', companyExternalId: 'c1', companyName: 'Group of Bob' })]);
    assert.equal((await db('companies').where({ external_id: 'c1' }).first('name')).name, 'Group of Ann');
  });
});
