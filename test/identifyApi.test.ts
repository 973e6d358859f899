import assert from 'node:assert/strict';
import { waitFor, countRows, TestEnv } from './support/testEnv';
import { newTenant, InProcessDaemon } from './support/daemon';
import { post, request, Reply } from './support/http';
import { Db } from '../src/store/db';
import { useDaemon } from './support/fixtures';
import { waitForQueueDrained } from './support/settled';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

/** A form body as Amplitude's docs (curl --data-urlencode), its Python and Node senders and RudderStack post it. */
const formOf = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

/** A properties column as read: JSON text on SQLite, already an object from PostgreSQL's jsonb. */
const properties = (value: unknown) => (typeof value === 'string' ? JSON.parse(value) : value);

describe("Amplitude's Identify and Group Identify APIs", () => {
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

  const postForm = (path: string, raw: string, headers: Record<string, string> = FORM) => request(`${daemon.baseUrl}${path}`, { raw, headers });
  const identify = (identification: unknown, path = '/identify') => postForm(path, formOf({ api_key: tenant.token, identification: JSON.stringify(identification) }));
  const endUser = (externalId: string) => db('end_users').where({ tenant_id: tenant.id, external_id: externalId }).first();
  const deliveries = (endpoint: string) => db('deliveries').where({ tenant_id: tenant.id, endpoint }).orderBy('id');
  const refusal = (reply: Reply) => [reply.status, reply.body?.error, reply.body?.missing_field ?? reply.body?.detail];

  it('a form body as real senders post it (percent-encoded JSON) answers 200 success, creates the end user and stores no activity', async () => {
    const raw = `api_key=${tenant.token}&identification=%7B%22user_id%22%3A%22form-1%22%2C%22user_properties%22%3A%7B%22email%22%3A%22Form.One%40Example.com%22%2C%22name%22%3A%22Form%20One%22%7D%7D`;
    const reply = await postForm('/identify', raw);
    assert.deepEqual([reply.status, reply.text], [200, 'success']);
    // curl --data 'identification=[{...}]' sends the JSON unencoded.
    const curl = await postForm('/identify', `api_key=${tenant.token}&identification=[{"user_id":"form-2","user_properties":{"$set":{"email":"two@example.com"}}}]`);
    assert.deepEqual([curl.status, curl.text], [200, 'success']);
    await waitFor('both end users', async () => (await endUser('form-1'))?.email === 'form.one@example.com' && (await endUser('form-2'))?.email === 'two@example.com');
    assert.equal((await endUser('form-1')).name, 'Form One');
    await waitForQueueDrained(env);
    assert.equal(await countRows(db, 'activities', { tenant_id: tenant.id }), 0, 'an identification stores no activity');
    await waitFor('delivery log', async () => (await deliveries('identify')).length === 2);
    assert.deepEqual((await deliveries('identify')).map((row) => [row.status, row.accepted]), [[200, 1], [200, 1]]);
  });

  it('a JSON body: identification as a JSON string, an array or one object; several in one request', async () => {
    const asText = await post(`${daemon.baseUrl}/identify`, { api_key: tenant.token, identification: JSON.stringify({ user_id: 'json-1', user_properties: { email: 'json1@example.com' } }) });
    const asArray = await post(`${daemon.baseUrl}/identify`, { api_key: tenant.token, identification: [{ user_id: 'json-2' }, { user_id: 'json-3', user_properties: { name: 'Three' } }] });
    // Other keys of the body are the sender's own, whatever their names: "status" and "body" included.
    const asObject = await post(`${daemon.baseUrl}/identify`, { api_key: tenant.token, identification: { user_id: 'json-4' }, status: 418, body: 'mine' });
    assert.deepEqual([asText, asArray, asObject].map((reply) => [reply.status, reply.text]), [[200, 'success'], [200, 'success'], [200, 'success']]);
    await waitFor('four end users', async () => (await db('end_users').where({ tenant_id: tenant.id }).whereIn('external_id', ['json-1', 'json-2', 'json-3', 'json-4'])).length === 4);
    assert.equal((await endUser('json-3')).name, 'Three');
  });

  it('400 naming what is missing or malformed, 400 for an unknown key, 415 and a query string refused', async () => {
    const form = (fields: Record<string, string>) => postForm('/identify', formOf(fields));
    assert.deepEqual(refusal(await form({ identification: '{"user_id":"u"}' })), [400, 'Request missing required field', 'api_key']);
    assert.deepEqual(refusal(await form({ api_key: tenant.token })), [400, 'Request missing required field', 'identification']);
    const badJson = await form({ api_key: tenant.token, identification: '{"user_id":' });
    assert.deepEqual([badJson.status, badJson.body.error], [400, 'Invalid identification JSON']);
    assert.match(badJson.body.detail, /^identification: /);
    const notObject = await form({ api_key: tenant.token, identification: '"u"' });
    assert.deepEqual(refusal(notObject), [400, 'Invalid identification', 'identification must be a JSON object or an array of objects, got a string']);
    const noUser = await form({ api_key: tenant.token, identification: JSON.stringify([{ user_id: 'ok' }, { user_properties: { plan: 'x' } }]) });
    assert.deepEqual([noUser.status, noUser.body.error, noUser.body.events_with_missing_fields], [400, 'Request missing required field', { user_id: [1] }]);
    assert.match(noUser.body.rejected[0].error, /user_id: missing: an identification needs user_id or device_id/);
    const tooMany = await form({ api_key: tenant.token, identification: JSON.stringify(Array.from({ length: 1025 }, (_, i) => ({ user_id: `m${i}` }))) });
    assert.deepEqual(refusal(tooMany), [400, 'Invalid identification', "identification holds 1025 identifications, over Amplitude's limit of 1024 per request"]);
    assert.deepEqual(refusal(await form({ api_key: 'nope', identification: '{"user_id":"u"}' })), [400, 'Invalid API key', undefined]);
    const wrongType = await postForm('/identify', formOf({ api_key: tenant.token, identification: '{"user_id":"u"}' }), { 'content-type': 'multipart/form-data; boundary=x' });
    assert.equal(wrongType.status, 415);
    assert.match(wrongType.body.error, /send JSON \(application\/json\) or a form \(application\/x-www-form-urlencoded\)/);
    const query = await postForm(`/identify?api_key=${tenant.token}`, formOf({ identification: '{"user_id":"u"}' }));
    assert.equal(query.status, 400);
    assert.match(query.body.error, /query parameter "api_key": .*send api_key and identification in the body/);
    await waitForQueueDrained(env);
    assert.equal(await endUser('ok'), undefined, 'a request with an invalid identification is refused whole');
    await waitFor('refusals of the known tenant logged', async () => (await deliveries('identify')).filter((row) => row.status === 400).length >= 4);
  });

  it('an identification whose user_properties is not an object is refused whole with 400 naming the field, not acknowledged and dropped', async () => {
    const reply = await identify([{ user_id: 'typo-ok' }, { user_id: 'typo', user_properties: 'plan=Enterprise' }]);
    assert.deepEqual([reply.status, reply.body.error, reply.body.events_with_invalid_fields], [400, 'Invalid field values on some events', { user_properties: [1] }]);
    assert.match(reply.body.rejected[0].error, /^user_properties: must be an object, got a string$/);
    // null stands for absent, as Amplitude's SDKs send it.
    assert.deepEqual([(await identify({ user_id: 'typo-null', user_properties: null })).status], [200]);
    await waitFor('the identification without properties applied', () => endUser('typo-null'));
    assert.equal(await endUser('typo-ok'), undefined, 'a request with an invalid identification is refused whole');
  });

  it('an identification nested too deep is refused naming the identification, not an event', async () => {
    let deep: Record<string, unknown> = { d: 1 };
    for (let i = 0; i < 100; i++) deep = { d: deep };
    const reply = await identify({ user_id: 'deep', user_properties: { $set: deep } });
    assert.equal(reply.status, 400);
    assert.deepEqual(reply.body.events_with_invalid_fields, { identification: [0] });
    assert.match(reply.body.rejected[0].error, /^identification: is nested more than 64 levels deep$/);
  });

  it("user properties of identifications are applied with Amplitude's operations, in order, end to end", async () => {
    const reply = await identify([
      { user_id: 'props-1', user_properties: { $set: { plan: 'Pro', role: 'admin' }, $add: { logins: 2 } } },
      { user_id: 'props-1', user_properties: { $add: { logins: 3 }, $unset: { role: '-' }, $append: { tags: 'beta' } } },
      { device_id: 'device-2', user_id: 'props-2', user_properties: { plan: 'Free' } },
    ]);
    assert.deepEqual([reply.status, reply.text], [200, 'success']);
    const user = await waitFor('properties applied', async () => {
      const row = await endUser('props-1');
      return row && properties(row.properties).logins === 5 && row;
    });
    assert.deepEqual(properties(user.properties), { plan: 'Pro', logins: 5, tags: ['beta'] });
    assert.deepEqual(properties((await waitFor('second user', () => endUser('props-2'))).properties), { plan: 'Free' });
  });

  it("413 in Amplitude's shape over the body limit", async () => {
    const reply = await identify(Array.from({ length: 2000 }, (_, i) => ({ user_id: `big-${i}`, user_properties: { pad: 'x'.repeat(20) } })));
    assert.deepEqual([reply.status, reply.body.code, reply.body.error], [413, 413, 'Payload too large']);
    assert.match(reply.body.detail, /over the 65536-byte limit \(MAX_BODY_BYTES\)/);
  });

  it('group identify: another group type is acknowledged and ignored, and the delivery log says so', async () => {
    const reply = await identify([{ group_type: 'Seller', group_value: '12345678', group_properties: { 'org plan': 'Enterprise' } }], '/groupidentify');
    assert.deepEqual([reply.status, reply.text], [200, 'success']);
    const [logged] = await waitFor('logged', async () => {
      const rows = await deliveries('groupidentify');
      return rows.length === 1 && rows;
    });
    assert.deepEqual([logged.status, logged.accepted], [200, 0]);
    assert.match(JSON.parse(logged.rejected)[0].error, /^ignored: group_type "Seller" is not this tenant's company group type \("company"\)/);
    const missing = await identify([{ group_type: 'company', group_properties: {} }], '/groupidentify');
    assert.deepEqual([missing.status, missing.body.events_with_missing_fields], [400, { group_value: [0] }]);
    await waitForQueueDrained(env);
    assert.equal(await countRows(db, 'companies', { tenant_id: tenant.id, external_id: '12345678' }), 0);
  });

  it('group identify of the company group type creates the company; a mixed request stores the company and notes the rest', async () => {
    const reply = await identify(
      [
        { group_type: 'org', group_value: 'other', group_properties: { plan: 'x' } },
        { group_type: 'company', group_value: 'acme-gi', group_properties: { $set: { name: 'Acme GI', tier: 'gold' } } },
      ],
      '/groupidentify',
    );
    assert.deepEqual([reply.status, reply.text], [200, 'success']);
    const company = await waitFor('company created', async () => db('companies').where({ tenant_id: tenant.id, external_id: 'acme-gi' }).first());
    assert.deepEqual(properties(company.properties), { name: 'Acme GI', tier: 'gold' });
    assert.equal(company.name, 'Acme GI', 'a new company takes its name from the properties set');
    assert.equal(await countRows(db, 'companies', { tenant_id: tenant.id, external_id: 'other' }), 0);
    await waitForQueueDrained(env);
    assert.equal(await countRows(db, 'activities', { tenant_id: tenant.id }), 0, 'a group identification stores no activity');
    const [logged] = await waitFor('logged', async () => {
      const rows = (await deliveries('groupidentify')).filter((row) => row.accepted === 1);
      return rows.length === 1 && rows;
    });
    assert.deepEqual(JSON.parse(logged.rejected).map((entry: { index: number }) => entry.index), [0]);
  });
});

describe('Identify API: over RATE_LIMIT_PER_TENANT, and with Redis down', () => {
  describe('rate limit', () => {
    let daemon: InProcessDaemon;
    let tenant: { token: string };
    useDaemon({ settings: { RATE_LIMIT_PER_TENANT: '2' }, worker: false, seed: async (db) => void (tenant = await newTenant(db)) }, (parts) => ({ daemon } = parts));

    it("429 in Amplitude's shape with Retry-After", async () => {
      const body = formOf({ api_key: tenant.token, identification: '{"user_id":"busy"}' });
      const burst = await Promise.all(Array.from({ length: 8 }, () => request(`${daemon.baseUrl}/identify`, { raw: body, headers: FORM })));
      const limited = burst.find((reply) => reply.status === 429);
      assert.ok(limited, burst.map((reply) => reply.status).join(','));
      assert.equal(limited.headers.get('retry-after'), '1');
      assert.deepEqual([limited.body.code, limited.body.error], [429, 'Too many requests']);
      assert.match(limited.body.detail, /RATE_LIMIT_PER_TENANT/);
    });
  });

  describe('Redis unreachable', () => {
    let daemon: InProcessDaemon;
    let tenant: { token: string };
    useDaemon({ settings: { REDIS_URL: 'redis://127.0.0.1:1', RETRY_AFTER_SECONDS: '17' }, worker: false, seed: async (db) => void (tenant = await newTenant(db)) }, (parts) => ({ daemon } = parts));

    it('503 with Retry-After and nothing accepted', async () => {
      const reply = await request(`${daemon.baseUrl}/identify`, { raw: formOf({ api_key: tenant.token, identification: '{"user_id":"queued"}' }), headers: FORM });
      assert.deepEqual([reply.status, reply.body.code, reply.headers.get('retry-after')], [503, 503, '17']);
      assert.match(reply.body.error, /queue \(Redis\) is unavailable/);
    });
  });
});
