/**
 * Field rules over real HTTP, Redis and the database: numbers, invisible characters in emails, lengths in characters,
 * Planhat fields that collide with info, query parameters nobody reads, and insert ids taken byte for byte. Each
 * test checks both the answer and what was stored.
 */
import assert from 'node:assert/strict';
import { ADMIN_TOKEN, waitFor } from '../support/testEnv';
import { newTenant, InProcessDaemon } from '../support/daemon';
import { post, request } from '../support/http';
import { Db } from '../../src/store/db';
import { readInfo } from '../../src/store/activityInfo';
import { useDaemon } from '../support/fixtures';

const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('hostile fields: numbers, invisible characters, lengths, colliding keys, query strings, insert ids', () => {
  let db: Db;
  let daemon: InProcessDaemon;
  let tenant: { id: number; token: string };

  useDaemon(
    {
      seed: async (db) => {
        tenant = await newTenant(db, 'fields');
      },
    },
    (parts) => ({ db, daemon } = parts),
  );

  const ingest = (body: unknown, path = `/analytics/${tenant.token}`) => post(`${daemon.baseUrl}${path}`, body);
  const activities = (where: Record<string, unknown>) => db('activities').where({ tenant_id: tenant.id, ...where }).orderBy('id');
  /** Events of one request travel in one job: once its sentinel is stored, every event of it that will be stored is. */
  const storedWith = async (sentinel: string) => {
    await waitFor(`activity ${sentinel}`, async () => (await activities({ insert_id: sentinel })).length > 0);
  };

  it('count and weight take JSON numbers and decimal strings only: 0x10, 0b1, Infinity and an empty string are refused naming the field, nothing of them stored', async () => {
    const bad: Array<[string, string]> = [['count', '0x10'], ['count', '0b1'], ['weight', 'Infinity'], ['count', ''], ['weight', '0o7'], ['count', '1_000']];
    const good: Array<[string, string, number]> = [['count', '1e3', 1000], ['count', ' 5 ', 5], ['weight', '-2.5', -2.5]];
    const reply = await ingest([
      ...bad.map(([field, value], i) => ({ externalId: 'num', action: 'numbers', insertId: `num-bad-${i}`, [field]: value })),
      ...good.map(([field, value], i) => ({ externalId: 'num', action: 'numbers', insertId: `num-good-${i}`, [field]: value })),
    ]);
    assert.equal(reply.status, 202, reply.text);
    assert.equal(reply.body.accepted, good.length);
    assert.deepEqual(
      reply.body.rejected.map((r: { index: number; error: string }) => [r.index, r.error.split(':')[0]]),
      bad.map(([field], i) => [i, field]),
    );
    for (const rejection of reply.body.rejected) assert.match(rejection.error, /is not a number \(a JSON number, or a decimal string/);
    await storedWith(`num-good-${good.length - 1}`);
    const stored = await activities({ action: 'numbers' });
    assert.deepEqual(stored.map((row) => row.insert_id), good.map((_, i) => `num-good-${i}`));
    good.forEach(([field, , value], i) => assert.equal(Number(stored[i][field]), value, `${field} of num-good-${i}`));
  });

  it('an email with a zero-width space, a bidi control or a no-break space inside is refused naming the field, and never becomes a second person', async () => {
    const disguised = ['ann\u200b@corp.example', '\u202eann@corp.example', 'ann\u00a0@corp.example', 'ann@corp\u2060.example'];
    const reply = await ingest([
      { email: 'ann@corp.example', action: 'mail', insertId: 'mail-real' },
      ...disguised.map((email, i) => ({ email, action: 'mail', insertId: `mail-${i}` })),
    ]);
    assert.equal(reply.status, 202, reply.text);
    assert.equal(reply.body.accepted, 1);
    assert.deepEqual(reply.body.rejected.map((r: { index: number }) => r.index), [1, 2, 3, 4]);
    for (const rejection of reply.body.rejected) assert.match(rejection.error, /^email: must not contain invisible, format or space characters \(it holds U\+[0-9A-F]{4}\)$/);
    const httpApi = await ingest({ api_key: tenant.token, events: [{ event_type: 'mail', user_id: 'amp-mail', user_properties: { email: 'ann\u200b@corp.example' } }] }, '/2/httpapi');
    assert.equal(httpApi.status, 400, httpApi.text);
    assert.deepEqual(httpApi.body.events_with_invalid_fields, { 'user_properties.email': [0] });
    const filter = await request(`${daemon.baseUrl}/api/v1/tenants/${tenant.id}/endusers?email=${encodeURIComponent('ann\u200b@corp.example')}`, { headers: admin });
    assert.equal(filter.status, 400, filter.text);
    assert.match(filter.body.error, /^email: must not contain invisible/);
    await storedWith('mail-real');
    const people = await db('end_users').where({ tenant_id: tenant.id }).where('email', 'like', '%corp%').select('email');
    assert.deepEqual(people.map((row) => row.email), ['ann@corp.example']);
    assert.equal((await activities({ action: 'mail' })).length, 1);
  });

  it('lengths are counted in characters: an action, ids and an insert id of 255 emoji are stored whole, 256 are refused', async () => {
    const emoji = (n: number) => '😀'.repeat(n);
    const whole = { externalId: emoji(255), action: emoji(255), name: emoji(1000), companyExternalId: emoji(255), insertId: emoji(255) };
    const reply = await ingest([
      whole,
      { externalId: 'len', action: emoji(256), insertId: 'len-1' },
      { externalId: emoji(256), action: 'len', insertId: 'len-2' },
      { externalId: 'len', action: 'len', insertId: emoji(256) },
      { externalId: 'len', action: 'len', name: emoji(1001), insertId: 'len-3' },
    ]);
    assert.equal(reply.status, 202, reply.text);
    assert.deepEqual(reply.body.rejected, [
      { index: 1, error: 'action: must be at most 255 characters, got 256' },
      { index: 2, error: 'externalId: must be at most 255 characters, got 256' },
      { index: 3, error: 'insertId: must be at most 255 characters, got 256' },
      { index: 4, error: 'name: must be at most 1000 characters, got 1001' },
    ]);
    await storedWith(emoji(255));
    const [stored] = await activities({ insert_id: emoji(255) });
    assert.equal(stored.action, emoji(255));
    const person = await db('end_users').where({ tenant_id: tenant.id, id: stored.end_user_id }).first();
    assert.deepEqual([person.external_id, person.name], [emoji(255), emoji(1000)]);
    assert.equal((await db('companies').where({ tenant_id: tenant.id, id: stored.company_id }).first()).external_id, emoji(255));
    const refused = await db('activities').where({ tenant_id: tenant.id }).whereIn('insert_id', ['len-1', 'len-2', 'len-3', emoji(256)]);
    assert.deepEqual(refused, []);
  });

  it('a Planhat field given at the top level and in info with different values is refused naming it; equal values are stored once', async () => {
    const reply = await ingest([
      { externalId: 'plan', action: 'plans', insertId: 'plan-clash', plan: 'top', info: { plan: 'inner' } },
      { externalId: 'plan', action: 'plans', insertId: 'plan-same', plan: 'pro', info: { plan: 'pro', seats: 3 } },
      { externalId: 'plan', action: 'plans', insertId: 'plan-apart', tier: 'gold', info: { plan: 'inner' } },
    ]);
    assert.equal(reply.status, 202, reply.text);
    assert.deepEqual(reply.body.rejected, [{ index: 0, error: 'plan: given at the top level and in info with different values; send it in one place (a top-level field is kept in info)' }]);
    await storedWith('plan-apart');
    const stored = await activities({ action: 'plans' });
    assert.deepEqual(stored.map((row) => [row.insert_id, readInfo(row)]), [
      ['plan-same', { plan: 'pro', seats: 3 }],
      ['plan-apart', { tier: 'gold', plan: 'inner' }],
    ]);
  });

  it('an admin query parameter the route does not take, or given twice or empty, is a 400 naming it, never an unfiltered list', async () => {
    assert.equal((await ingest({ externalId: 'someone-else', action: 'query', insertId: 'query-1' })).status, 202);
    await storedWith('query-1');
    const get = (path: string) => request(`${daemon.baseUrl}/api/v1${path}`, { headers: admin });
    const base = `/tenants/${tenant.id}`;
    for (const [query, pattern] of [
      [`${base}/activities?externalId[]=nobody`, /^externalId\[\]: not a query parameter of this route \(it takes externalId, email, action, /],
      [`${base}/endusers?externalid=nobody`, /^externalid: not a query parameter of this route \(it takes externalId, email, companyExternalId, unassigned, property\.NAME, limit, cursor\)$/],
      [`${base}/activities?externalId=nobody&externalId=someone-else`, /^externalId: give it once$/],
      [`${base}/activities?externalId=`, /^externalId: empty; leave the parameter out instead$/],
      [`${base}/activities?limit=5&limit=6`, /^limit: give it once$/],
      [`${base}/companies?externalId=nobody`, /^externalId: not a query parameter of this route \(it takes limit, cursor\)$/],
      [`${base}/filtered-actions?action=x`, /^action: not a query parameter of this route \(it takes none\)$/],
      [`${base}/deliveries?tenantId=1`, /^tenantId: not a query parameter of this route/],
      ['/tenants?name=fields', /^name: not a query parameter of this route \(it takes none\)$/],
    ] as const) {
      const reply = await get(query);
      assert.equal(reply.status, 400, `${query}: ${reply.text.slice(0, 200)}`);
      assert.match(reply.body.error, pattern, query);
    }
    const patch = await request(`${daemon.baseUrl}/api/v1${base}?enabled=false`, { method: 'PATCH', body: {}, headers: admin });
    assert.equal(patch.status, 400, patch.text);
    assert.equal((await db('tenants').where({ id: tenant.id }).first()).enabled ? 'enabled' : 'disabled', 'enabled');
    const filtered = await get(`${base}/activities?externalId=nobody`);
    assert.equal(filtered.status, 200);
    assert.deepEqual(filtered.body.data, [], 'a filter the route takes still filters');
  });

  it('an ingest request with a query string is refused with 400 naming the parameter, on the Planhat routes and on the HTTP V2 API', async () => {
    const event = { externalId: 'qs', action: 'query-string', insertId: 'qs-1' };
    for (const path of [`/analytics/${tenant.token}?dryRun=true`, `/analytics/bulk/${tenant.token}?tenant=2`]) {
      const reply = await ingest([event], path);
      assert.equal(reply.status, 400, `${path}: ${reply.text}`);
      assert.match(reply.body.error, /^query parameter "(dryRun|tenant)": ingest routes take no query parameters/);
      assert.equal(reply.body.accepted, 0);
    }
    const httpApi = await ingest({ api_key: tenant.token, events: [{ event_type: 'query-string', user_id: 'qs', insert_id: 'qs-2' }] }, '/2/httpapi?api_key=other');
    assert.equal(httpApi.status, 400, httpApi.text);
    assert.equal(httpApi.body.code, 400);
    assert.match(httpApi.body.error, /^query parameter "api_key": ingest routes take no query parameters/);
    const refusals = await waitFor('the refusals in the delivery log', async () => {
      const reply = await request(`${daemon.baseUrl}/api/v1/tenants/${tenant.id}/deliveries?status=400`, { headers: admin });
      const rows = reply.body.data.filter((row: { endpoint: string }) => row.endpoint.startsWith('analytics'));
      return rows.length >= 2 && rows;
    });
    assert.equal(refusals.length, 2, 'each Planhat-route refusal is in the delivery log');
    assert.equal((await ingest([{ ...event, insertId: 'qs-ok' }], `/analytics/${tenant.token}?`)).status, 202, 'a bare ? is no query string');
    await storedWith('qs-ok');
    assert.deepEqual((await activities({ action: 'query-string' })).map((row) => row.insert_id), ['qs-ok']);
  });

  it('insert ids are kept byte for byte while other ids and emails are trimmed: dup-1 with a space before, after, or in capitals are four activities of one person', async () => {
    const reply = await ingest([
      { externalId: 'dup-user', email: 'Dup@Corp.Example', action: 'dup', insertId: 'dup-1' },
      { externalId: ' dup-user', email: ' dup@corp.example', action: 'dup', insertId: ' dup-1' },
      { externalId: 'dup-user\t', action: 'dup', insertId: 'dup-1 ' },
      { externalId: 'dup-user ', action: 'dup', insertId: 'DUP-1' },
      { externalId: 'dup-user', action: 'dup', insertId: 'dup-1' },
    ]);
    assert.equal(reply.status, 202, reply.text);
    assert.deepEqual(reply.body, { accepted: 5, rejected: [] });
    const stored = await waitFor('four activities', async () => {
      const rows = await activities({ action: 'dup' });
      return rows.length === 4 && rows;
    });
    assert.deepEqual(stored.map((row) => row.insert_id).sort(), [' dup-1', 'DUP-1', 'dup-1', 'dup-1 ']);
    const people = await db('end_users').where({ tenant_id: tenant.id }).whereIn('id', stored.map((row) => row.end_user_id)).select('external_id', 'email');
    assert.deepEqual(people, [{ external_id: 'dup-user', email: 'dup@corp.example' }]);
    const other = await db('end_users').where({ tenant_id: tenant.id, external_id: 'DUP-USER' }).first();
    assert.equal(other, undefined);
  });

  it('a blank insert id is refused naming the field; an absent or null one gets a UUIDv7 from the receiver', async () => {
    const reply = await ingest([
      { externalId: 'blank', action: 'blank-ids', insertId: '' },
      { externalId: 'blank', action: 'blank-ids', insertId: '   ' },
      { event_type: 'blank-ids', user_id: 'blank', insert_id: '' },
      { externalId: 'blank', action: 'blank-ids', insertId: null },
      { externalId: 'blank', action: 'blank-ids' },
      { externalId: 'blank', action: 'blank-ids', insertId: 'blank-sentinel' },
    ]);
    assert.equal(reply.status, 202, reply.text);
    const blank = 'must not be empty or only whitespace (leave it out, and the receiver makes one)';
    assert.deepEqual(reply.body.rejected, [
      { index: 0, error: `insertId: ${blank}` },
      { index: 1, error: `insertId: ${blank}` },
      { index: 2, error: `insert_id: ${blank}` },
    ]);
    await storedWith('blank-sentinel');
    const made = (await activities({ action: 'blank-ids' })).map((row) => row.insert_id).filter((id) => id !== 'blank-sentinel');
    assert.equal(made.length, 2);
    for (const id of made) assert.match(id, UUID_V7);
    const httpApi = await ingest({ api_key: tenant.token, events: [{ event_type: 'blank-ids', user_id: 'blank', $insert_id: ' ' }] }, '/2/httpapi');
    assert.equal(httpApi.status, 400, httpApi.text);
    assert.deepEqual(httpApi.body.events_with_invalid_fields, { $insert_id: [0] });
  });
  it('a number id JSON cannot carry exactly (past 2^53 - 1, or written with an exponent) is refused naming the field, never taken as its neighbour', async () => {
    const raw = `[
      {"externalId": "big-ids", "action": "big-ids", "insertId": 9007199254740993},
      {"externalId": "big-ids", "action": "big-ids", "insertId": 9007199254740992},
      {"externalId": 12345678901234567891, "action": "big-ids", "insertId": "big-a"},
      {"externalId": 1e21, "action": "big-ids", "insertId": "big-b"},
      {"externalId": 1e400, "action": "big-ids", "insertId": "big-c"},
      {"externalId": "big-ids", "action": "big-ids", "insertId": 9007199254740991},
      {"externalId": 42, "action": "big-ids", "insertId": "big-sentinel"}
    ]`;
    const reply = await request(`${daemon.baseUrl}/analytics/${tenant.token}`, { raw });
    assert.equal(reply.status, 202, reply.text);
    assert.deepEqual(reply.body.rejected.map((rejection: { index: number; error: string }) => [rejection.index, rejection.error.split(':')[0]]), [
      [0, 'insertId'],
      [1, 'insertId'],
      [2, 'externalId'],
      [3, 'externalId'],
      [4, 'externalId'],
    ]);
    assert.match(reply.body.rejected[0].error, /cannot be read exactly .* send this id as a string/);
    await storedWith('big-sentinel');
    const stored = (await activities({ action: 'big-ids' })).map((row) => row.insert_id);
    assert.deepEqual(stored, ['9007199254740991', 'big-sentinel']);
  });
});
