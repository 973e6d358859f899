import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { waitFor, countRows, ADMIN_TOKEN, TEST_DATABASE_NAME } from './support/testEnv';
import { newTenant, InProcessDaemon } from './support/daemon';
import { post, request } from './support/http';
import { Db } from '../src/store/db';
import { rotateTenantToken, setTenantEnabled } from '../src/tenants/tenantAccounts';
import { useDaemon } from './support/fixtures';
import { settledDeliveries } from './support/settled';
import { amplitudeExportEvent } from './fixtures/amplitudeExport';

const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };

describe(`receiver: the ingest contract over real HTTP, Redis and ${TEST_DATABASE_NAME}`, () => {
  let db: Db;
  let daemon: InProcessDaemon;
  let tenant: { id: number; token: string };

  useDaemon(
    {
      settings: { MAX_EVENT_BYTES: '2048', MAX_BODY_BYTES: '65536' },
      seed: async (db) => {
        tenant = await newTenant(db, 'receiver-test');
      },
    },
    (parts) => ({ db, daemon } = parts),
  );

  const url = (path: string) => `${daemon.baseUrl}${path}`;
  const activitiesOf = async (externalId: string) =>
    (await request(url(`/api/v1/tenants/${tenant.id}/activities?externalId=${encodeURIComponent(externalId)}`), { headers: admin })).body.data;

  it('POST /analytics/:token takes one Planhat event: 202, then it is stored', async () => {
    const reply = await post(url(`/analytics/${tenant.token}`), { externalId: 'single-1', email: 'Single@Example.com', action: 'login', companyExternalId: 'acme', info: { plan: 'pro' } });
    assert.equal(reply.status, 202);
    assert.deepEqual(reply.body, { accepted: 1, rejected: [] });
    const [activity] = await waitFor('the activity', async () => (await activitiesOf('single-1'))[0] && activitiesOf('single-1'));
    assert.equal(activity.action, 'login');
    assert.equal(activity.email, 'single@example.com');
    assert.equal(activity.companyExternalId, 'acme');
    assert.deepEqual(activity.info, { plan: 'pro' });
    assert.match(activity.date, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  });

  it('POST /analytics with a Bearer token takes an array', async () => {
    const reply = await post(url('/analytics'), [{ externalId: 'bearer-1', action: 'a' }, { externalId: 'bearer-1', action: 'b' }], { authorization: `Bearer ${tenant.token}` });
    assert.equal(reply.status, 202);
    assert.equal(reply.body.accepted, 2);
    await waitFor('two activities', async () => (await activitiesOf('bearer-1')).length === 2);
  });

  it('POST /analytics/bulk/:token takes Planhat short names id and cId', async () => {
    const reply = await post(url(`/analytics/bulk/${tenant.token}`), [{ id: 'bulk-1', cId: 'bulk-co', action: 'x' }]);
    assert.equal(reply.status, 202);
    const [activity] = await waitFor('the bulk activity', async () => (await activitiesOf('bulk-1'))[0] && activitiesOf('bulk-1'));
    assert.equal(activity.companyExternalId, 'bulk-co');
  });

  it('POST /analytics/bulk with a Bearer token, and refuses a non-array body there', async () => {
    const ok = await post(url('/analytics/bulk'), [{ id: 'bulk-2', action: 'x' }], { authorization: `Bearer ${tenant.token}` });
    assert.equal(ok.status, 202);
    const refused = await post(url('/analytics/bulk'), { id: 'bulk-2', action: 'x' }, { authorization: `Bearer ${tenant.token}` });
    assert.equal(refused.status, 400);
    assert.match(refused.body.error, /body must be a JSON array of events/);
  });

  it('takes Amplitude events as event streaming sends them and keeps their properties in info', async () => {
    const reply = await post(url(`/analytics/${tenant.token}`), {
      event_type: 'Report Exported', user_id: 'amp-1', event_time: '2022-02-28 20:07:01.795', insert_id: 'amp-ins-1',
      event_properties: { format: 'pdf' }, user_properties: { email: 'amp1@example.com' }, groups: { company: 'g1' },
    });
    assert.equal(reply.status, 202);
    const [activity] = await waitFor('the Amplitude activity', async () => (await activitiesOf('amp-1'))[0] && activitiesOf('amp-1'));
    assert.equal(activity.action, 'Report Exported');
    assert.equal(activity.date, '2022-02-28T20:07:01.795Z');
    assert.equal(activity.insertId, 'amp-ins-1');
    assert.equal(activity.email, 'amp1@example.com');
    assert.deepEqual(activity.info.event_properties, { format: 'pdf' });
    assert.deepEqual(activity.info.groups, { company: 'g1' });
  });

  it('accepts the valid events of a mixed batch: 202 with each rejection', async () => {
    const reply = await post(url(`/analytics/${tenant.token}`), [{ externalId: 'mixed-1', action: 'ok' }, { externalId: 'mixed-1' }, { action: 'who' }]);
    assert.equal(reply.status, 202);
    assert.deepEqual(reply.body, {
      accepted: 1,
      rejected: [
        { index: 1, error: 'action: missing: must be a non-empty string' },
        { index: 2, error: 'externalId: missing: an event needs externalId or email' },
      ],
    });
  });

  it('400 for a body that is not JSON', async () => {
    const reply = await request(url(`/analytics/${tenant.token}`), { raw: '{"externalId": "u1", "action": ' });
    assert.equal(reply.status, 400);
    assert.equal(reply.body.accepted, 0);
    assert.match(reply.body.error, /^body is not valid JSON/);
  });

  it('400 when no event is valid, with every reason', async () => {
    const reply = await post(url(`/analytics/${tenant.token}`), [{ action: 'x' }, { externalId: 'u', action: 'x', date: 'never' }]);
    assert.equal(reply.status, 400);
    assert.deepEqual(reply.body.rejected, [
      { index: 0, error: 'externalId: missing: an event needs externalId or email' },
      { index: 1, error: 'date: "never" is not a valid date' },
    ]);
    assert.equal(reply.body.accepted, 0);
    const empty = await post(url(`/analytics/${tenant.token}`), []);
    assert.equal(empty.status, 400);
    assert.equal(empty.body.error, 'body holds no events');
  });

  it('401 for an unknown or missing token', async () => {
    const unknown = await post(url('/analytics/not-a-real-token'), { externalId: 'u', action: 'x' });
    assert.equal(unknown.status, 401);
    assert.equal(unknown.body.error, 'unknown tenant token');
    const missing = await post(url('/analytics'), { externalId: 'u', action: 'x' });
    assert.equal(missing.status, 401);
    assert.match(missing.body.error, /missing tenant token/);
  });

  it('403 once a tenant is disabled, on a running receiver within 5 seconds; 202 again once enabled', async () => {
    const other = await newTenant(db);
    await setTenantEnabled(db, other.id, false);
    const started = Date.now();
    await waitFor('403', async () => (await post(url(`/analytics/${other.token}`), { externalId: 'u', action: 'x' })).status === 403, 5000);
    assert.ok(Date.now() - started <= 5000);
    const refused = await post(url(`/analytics/${other.token}`), { externalId: 'u', action: 'x' });
    assert.deepEqual(refused.body, { accepted: 0, rejected: [], error: 'tenant is disabled' });
    await setTenantEnabled(db, other.id, true);
    await waitFor('202 again', async () => (await post(url(`/analytics/${other.token}`), { externalId: 'u', action: 'x' })).status === 202, 5000);
  });

  it('a token rotated with no grace stops working within 5 seconds and the new one works', async () => {
    const other = await newTenant(db);
    await waitFor('the new tenant to be known', async () => (await post(url(`/analytics/${other.token}`), { externalId: 'u', action: 'x' })).status === 202, 5000);
    const { token } = await rotateTenantToken(db, other.id, 0);
    await waitFor('old token refused', async () => (await post(url(`/analytics/${other.token}`), { externalId: 'u', action: 'x' })).status === 401, 5000);
    assert.equal((await post(url(`/analytics/${token}`), { externalId: 'u', action: 'x' })).status, 202);
  });

  it('413 when the only event is over MAX_EVENT_BYTES; a larger batch accepts the others', async () => {
    const big = { externalId: 'big', action: 'x', info: { blob: 'z'.repeat(3000) } };
    const only = await post(url(`/analytics/${tenant.token}`), big);
    assert.equal(only.status, 413);
    assert.match(only.body.rejected[0].error, /over the 2048-byte limit \(MAX_EVENT_BYTES\)/);
    const mixed = await post(url(`/analytics/${tenant.token}`), [big, { externalId: 'small', action: 'x' }]);
    assert.equal(mixed.status, 202);
    assert.equal(mixed.body.accepted, 1);
    assert.equal(mixed.body.rejected[0].index, 0);
  });

  it('413 for a body over MAX_BODY_BYTES, also when it only inflates past the limit', async () => {
    const events = Array.from({ length: 2000 }, (_, i) => ({ externalId: `many-${i}`, action: 'x' }));
    const plain = await post(url(`/analytics/${tenant.token}`), events);
    assert.equal(plain.status, 413);
    assert.match(plain.body.error, /MAX_BODY_BYTES/);
    const gzipped = zlib.gzipSync(JSON.stringify(events));
    assert.ok(gzipped.length < 65536);
    const inflated = await request(url(`/analytics/${tenant.token}`), { raw: gzipped, headers: { 'content-encoding': 'gzip' } });
    assert.equal(inflated.status, 413);
  });

  it('accepts a gzip body', async () => {
    const reply = await request(url(`/analytics/${tenant.token}`), { raw: zlib.gzipSync(JSON.stringify({ externalId: 'gz', action: 'x' })), headers: { 'content-encoding': 'gzip' } });
    assert.equal(reply.status, 202);
    const corrupt = await request(url(`/analytics/${tenant.token}`), { raw: Buffer.from('not gzip at all'), headers: { 'content-encoding': 'gzip' } });
    assert.equal(corrupt.status, 400);
    assert.match(corrupt.body.error, /could not be decompressed/);
  });

  it('never answers 500 for what a client sends', async () => {
    const bodies = ['', 'null', '42', '"text"', '[null]', '[[]]', '{"externalId":null,"action":null}', '\u0000', '{"externalId":"a","action":"b","date":{"$gt":1}}', '[' + '['.repeat(5000) + ']'.repeat(5000) + ']'];
    for (const raw of bodies) {
      const reply = await request(url(`/analytics/${tenant.token}`), { raw });
      assert.ok(reply.status === 400, `${JSON.stringify(raw.slice(0, 30))} got ${reply.status}: ${reply.text}`);
      assert.equal(typeof reply.body.error, 'string');
    }
  });

  it('a repeated insert_id, sent twice over HTTP, is stored once', async () => {
    // A tenant of its own, so its delivery log holds only these two requests.
    const own = await newTenant(db);
    const event = { event_type: 'Resent', user_id: 'resend-1', insert_id: 'resend-ins' };
    await waitFor('the new tenant known', async () => (await post(url(`/analytics/${own.token}`), event)).status === 202, 5000);
    assert.equal((await post(url(`/analytics/${own.token}`), [event, event])).status, 202);
    const [first, resent] = await settledDeliveries(daemon.baseUrl, own.id, 2);
    assert.equal(first.outcomes.stored, 1);
    assert.deepEqual([resent.outcomes.stored, resent.outcomes.duplicate], [0, 2], 'both repeats were recognised as duplicates');
    assert.equal(await countRows(db, 'activities', { tenant_id: own.id, insert_id: 'resend-ins' }), 1);
  });

  it('an Amplitude export event with a uuid and no insert id, delivered three times, is stored once with the uuid as its insert id', async () => {
    const own = await newTenant(db);
    const event = amplitudeExportEvent();
    assert.equal(event.insert_id ?? event.$insert_id, undefined, 'the fixture is the case without an insert id');
    await waitFor('the new tenant known', async () => (await post(url(`/analytics/${own.token}`), event)).status === 202, 5000);
    assert.equal((await post(url(`/analytics/${own.token}`), event)).status, 202);
    assert.equal((await post(url(`/analytics/${own.token}`), [event])).status, 202);
    const outcomes = (await settledDeliveries(daemon.baseUrl, own.id, 3)).map((delivery) => [delivery.outcomes.stored, delivery.outcomes.duplicate]);
    assert.deepEqual(outcomes, [[1, 0], [0, 1], [0, 1]], 'the redeliveries were recognised as the same event');
    const stored = await db('activities').where({ tenant_id: own.id }).select('insert_id', 'action');
    assert.deepEqual(stored, [{ insert_id: event.uuid, action: 'Report Exported' }]);
  });

  it('the same event resent without an insert id is a new event: two activities', async () => {
    const event = { event_type: 'Resent without id', user_id: 'resend-2', time: 1700000000000 };
    assert.equal((await post(url(`/analytics/${tenant.token}`), event)).status, 202);
    assert.equal((await post(url(`/analytics/${tenant.token}`), event)).status, 202);
    await waitFor('both stored', async () => (await activitiesOf('resend-2')).length === 2);
    const ids = (await activitiesOf('resend-2')).map((activity: { insertId: string }) => activity.insertId);
    assert.notEqual(ids[0], ids[1], 'each got its own insert id at the receiver');
  });

  it('answers unknown routes with a JSON 404', async () => {
    const reply = await request(url('/nothing-here'));
    assert.equal(reply.status, 404);
    assert.match(reply.body.error, /no route/);
  });
});

describe('receiver: Redis unreachable', () => {
  let daemon: InProcessDaemon;
  let tenant: { token: string };

  useDaemon(
    {
      settings: { REDIS_URL: 'redis://127.0.0.1:1', RETRY_AFTER_SECONDS: '17' },
      worker: false,
      seed: async (db) => {
        tenant = await newTenant(db);
      },
    },
    (parts) => ({ daemon } = parts),
  );

  it('503 with Retry-After and nothing accepted', async () => {
    const reply = await post(`${daemon.baseUrl}/analytics/${tenant.token}`, [{ externalId: 'u', action: 'x' }]);
    assert.equal(reply.status, 503);
    assert.equal(reply.headers.get('retry-after'), '17');
    assert.equal(reply.body.accepted, 0);
    assert.match(reply.body.error, /queue \(Redis\) is unavailable/);
  });
});
