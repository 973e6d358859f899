import assert from 'node:assert/strict';
import { createInstance, Identify } from '@amplitude/analytics-node';
import { waitFor, countRows, TestEnv } from './support/testEnv';
import { newTenant, InProcessDaemon } from './support/daemon';
import { post, request } from './support/http';
import { Db } from '../src/store/db';
import { readInfo } from '../src/store/activityInfo';
import { changeTenantSettings, setTenantEnabled } from '../src/tenants/tenantAccounts';
import { useDaemon } from './support/fixtures';
import { waitForQueueDrained } from './support/settled';

describe('Amplitude HTTP V2 API', () => {
  let db: Db;
  let daemon: InProcessDaemon;
  let env: TestEnv;
  let tenant: { id: number; token: string };

  useDaemon(
    {
      settings: { MAX_BODY_BYTES: '65536' },
      seed: async (db) => {
        tenant = await newTenant(db);
      },
    },
    (parts) => ({ db, daemon, env } = parts),
  );

  const httpApi = (body: unknown, path = '/2/httpapi') => post(`${daemon.baseUrl}${path}`, body);

  it('200 in Amplitude\'s shape, on /2/httpapi and /batch, and the events are stored', async () => {
    const body = { api_key: tenant.token, events: [{ event_type: 'Played', user_id: 'http-1', insert_id: 'h-1', time: 1700000000000 }], options: { min_id_length: 1 } };
    const reply = await httpApi(body);
    assert.equal(reply.status, 200);
    assert.deepEqual(Object.keys(reply.body).sort(), ['code', 'events_ingested', 'payload_size_bytes', 'server_upload_time']);
    assert.equal(reply.body.code, 200);
    assert.equal(reply.body.events_ingested, 1);
    assert.equal(reply.body.payload_size_bytes, Buffer.byteLength(JSON.stringify(body)));
    const batch = await httpApi({ api_key: tenant.token, events: [{ event_type: 'Played', user_id: 'http-1', insert_id: 'h-2' }] }, '/batch');
    assert.equal(batch.status, 200);
    await waitFor('two activities', async () => (await countRows(db, 'activities', { tenant_id: tenant.id })) === 2);
  });

  it('400 with Amplitude\'s fields for a missing api_key or events, bad JSON and an unknown key', async () => {
    assert.deepEqual((await httpApi({ events: [{}] })).body, { code: 400, error: 'Request missing required field', missing_field: 'api_key' });
    assert.deepEqual((await httpApi({ api_key: tenant.token })).body, { code: 400, error: 'Request missing required field', missing_field: 'events' });
    const badJson = await request(`${daemon.baseUrl}/2/httpapi`, { raw: '{"api_key":' });
    assert.equal(badJson.status, 400);
    assert.equal(badJson.body.error, 'Invalid JSON request body');
    const unknown = await httpApi({ api_key: 'nope', events: [{ event_type: 'x', user_id: 'u' }] });
    assert.deepEqual([unknown.status, unknown.body], [400, { code: 400, error: 'Invalid API key' }]);
  });

  it('refuses a request with invalid events whole, listing them by field, as Amplitude does', async () => {
    const before = await countRows(db, 'activities', { tenant_id: tenant.id });
    const reply = await httpApi({ api_key: tenant.token, events: [{ event_type: 'ok', user_id: 'u1' }, { user_id: 'u2' }, { event_type: 'x', user_id: 'u3', time: 'later' }, { event_type: 'x' }] });
    assert.equal(reply.status, 400);
    assert.equal(reply.body.code, 400);
    assert.equal(reply.body.error, 'Invalid field values on some events');
    assert.deepEqual(reply.body.events_with_missing_fields, { event_type: [1], user_id: [3] });
    assert.deepEqual(reply.body.events_with_invalid_fields, { time: [2] });
    assert.equal(reply.body.rejected.length, 3);
    await waitForQueueDrained(env);
    assert.equal(await countRows(db, 'activities', { tenant_id: tenant.id }), before, 'nothing of a refused request is stored');
  });

  it('refuses an event whose user_properties or group_properties is not an object with 400 naming the field; null is absent', async () => {
    const reply = await httpApi({ api_key: tenant.token, events: [
      { event_type: '$identify', user_id: 'typo2', insert_id: 'typo2-1', user_properties: 'plan=Enterprise' },
      { event_type: 'x', user_id: 'typo3', groups: { company: 'acme' }, group_properties: { company: 'Acme' } },
      { event_type: 'x', user_id: 'typo4', user_properties: null, group_properties: null },
    ] });
    assert.equal(reply.status, 400);
    assert.deepEqual(reply.body.events_with_invalid_fields, { user_properties: [0], 'group_properties.company': [1] });
    assert.deepEqual(reply.body.rejected.map((entry: { error: string }) => entry.error), ['user_properties: must be an object, got a string', 'group_properties.company: must be an object, got a string']);
  });

  it('device-only events: refused with the reason unless the tenant allows them, then stored on a device end user', async () => {
    const refused = await httpApi({ api_key: tenant.token, events: [{ event_type: 'x', device_id: 'device-abc' }] });
    assert.equal(refused.status, 400);
    assert.match(refused.body.rejected[0].error, /device-only events need the tenant setting allowDeviceOnlyEvents=true/);
    await changeTenantSettings(db, tenant.id, { allowDeviceOnlyEvents: 'true' });
    await waitFor('setting applied', async () => (await httpApi({ api_key: tenant.token, events: [{ event_type: 'x', device_id: 'device-abc', insert_id: 'dev-1' }] })).status === 200, 5000, 200);
    await waitFor('device user', async () => (await db('end_users').where({ tenant_id: tenant.id, external_id: 'device:device-abc' })).length === 1);
  });

  it('413 in Amplitude\'s shape for a body over MAX_BODY_BYTES', async () => {
    const events = Array.from({ length: 2000 }, (_, i) => ({ event_type: 'big', user_id: `u${i}` }));
    const reply = await httpApi({ api_key: tenant.token, events });
    assert.deepEqual([reply.status, reply.body.code, reply.body.error], [413, 413, 'Payload too large']);
    assert.match(reply.body.detail, /over the 65536-byte limit \(MAX_BODY_BYTES\)/);
  });

  it('403 for a disabled tenant', async () => {
    const other = await newTenant(db);
    await setTenantEnabled(db, other.id, false);
    await waitFor('403', async () => (await httpApi({ api_key: other.token, events: [{ event_type: 'x', user_id: 'u' }] })).status === 403, 5000);
  });

  it('the official @amplitude/analytics-node SDK, pointed here with serverUrl, tracks events and identifies users: each arrives once', async () => {
    const sdkTenant = await newTenant(db);
    await waitFor('tenant known', async () => (await httpApi({ api_key: sdkTenant.token, events: [{ event_type: 'warmup', user_id: 'warmup-user' }] })).status === 200, 5000);
    const client = createInstance();
    await client.init(sdkTenant.token, { serverUrl: `${daemon.baseUrl}/2/httpapi`, flushIntervalMillis: 200, flushQueueSize: 50 }).promise;
    const tracked = [
      client.track('Song Played', { song: 'one' }, { user_id: 'sdk-user-1' }).promise,
      client.track('Song Played', { song: 'two' }, { user_id: 'sdk-user-1' }).promise,
      client.track('Playlist Saved', { size: 3 }, { user_id: 'sdk-user-2' }).promise,
      client.identify(new Identify().set('email', 'SDK.User@Example.com').set('name', 'Sdk User'), { user_id: 'sdk-user-1' }).promise,
    ];
    await client.flush().promise;
    const results = await Promise.all(tracked);
    assert.deepEqual(results.map((result) => result.code), [200, 200, 200, 200], JSON.stringify(results));
    await waitFor('three activities', async () => (await countRows(db, 'activities', { tenant_id: sdkTenant.id })) === 4);
    await waitFor('identify applied', async () => (await db('end_users').where({ tenant_id: sdkTenant.id, external_id: 'sdk-user-1' }).first())?.email === 'sdk.user@example.com');
    await waitForQueueDrained(env);
    const activities = await db('activities').where({ tenant_id: sdkTenant.id }).orderBy('id');
    assert.deepEqual(activities.map((row) => row.action), ['warmup', 'Song Played', 'Song Played', 'Playlist Saved']);
    assert.equal(new Set(activities.map((row) => row.insert_id)).size, 4, 'each event once, with the SDK\'s insert_id');
    assert.deepEqual(readInfo(activities[1]).event_properties, { song: 'one' });
    const user = await db('end_users').where({ tenant_id: sdkTenant.id, external_id: 'sdk-user-1' }).first();
    assert.equal(user.name, 'Sdk User');
  });
});
