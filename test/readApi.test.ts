import assert from 'node:assert/strict';
import { ADMIN_TOKEN } from './support/testEnv';
import { newTenant, InProcessDaemon } from './support/daemon';
import { request } from './support/http';
import { writeBatch } from '../src/process/writeBatch';
import { ActivityEvent } from '../src/normalize/activityEvent';
import { useDaemon } from './support/fixtures';

const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const event = (fields: Partial<ActivityEvent> & { insertId: string }): ActivityEvent => ({ action: 'use', date: Date.UTC(2024, 0, 1), count: 1, weight: 1, info: {}, ...fields });

describe('read API', () => {
  let daemon: InProcessDaemon;
  let tenantId: number;
  let otherTenantId: number;
  const get = (path: string, headers: Record<string, string> = admin) => request(`${daemon.baseUrl}${path}`, { headers });

  useDaemon(
    {
      worker: false,
      seed: async (db) => {
        tenantId = (await newTenant(db)).id;
        otherTenantId = (await newTenant(db)).id;
        const events: ActivityEvent[] = [];
        for (let i = 0; i < 25; i++) {
          events.push(event({ externalId: `user-${i % 5}`, email: `user${i % 5}@example.com`, companyExternalId: i % 5 < 2 ? 'acme' : 'globex', action: i % 2 ? 'login' : 'export', date: Date.UTC(2024, 0, 1 + i), insertId: `r-${i}` }));
        }
        events.push(event({ email: 'loner@example.com', insertId: 'loner', name: 'Lone Ranger' }));
        await writeBatch(db, [{ tenantId, receivedAt: Date.UTC(2024, 5, 1), events }]);
        await writeBatch(db, [{ tenantId: otherTenantId, receivedAt: 1, events: [event({ externalId: 'user-0', insertId: 'other' })] }]);
      },
    },
    (parts) => ({ daemon } = parts),
  );

  it('401 without the admin token, or with a wrong one', async () => {
    const none = await get(`/api/v1/tenants/${tenantId}/endusers`, {});
    assert.equal(none.status, 401);
    assert.equal(none.headers.get('www-authenticate'), 'Bearer realm="activityd admin"');
    assert.equal((await get(`/api/v1/tenants/${tenantId}/endusers`, { authorization: 'Bearer nope' })).status, 401);
    assert.equal((await get(`/api/v1/tenants/${tenantId}/activities`, {})).status, 401);
    assert.equal((await get(`/api/v1/tenants/${tenantId}/companies`, {})).status, 401);
  });

  it('lists end users with their company and activity count, filtered by externalId, email or company', async () => {
    const all = await get(`/api/v1/tenants/${tenantId}/endusers`);
    assert.equal(all.status, 200);
    assert.equal(all.body.data.length, 6);
    assert.equal(all.body.nextCursor, null);
    const [user] = (await get(`/api/v1/tenants/${tenantId}/endusers?externalId=user-1`)).body.data;
    assert.deepEqual(Object.keys(user).sort(), ['activityCount', 'companyExternalId', 'companyId', 'createdAt', 'email', 'externalId', 'id', 'name', 'properties']);
    assert.equal(user.email, 'user1@example.com');
    assert.equal(user.companyExternalId, 'acme');
    assert.equal(user.activityCount, 5);
    assert.match(user.createdAt, /Z$/);
    const byEmail = (await get(`/api/v1/tenants/${tenantId}/endusers?email=USER2@example.com`)).body.data;
    assert.deepEqual(byEmail.map((row: { externalId: string }) => row.externalId), ['user-2']);
    const byCompany = (await get(`/api/v1/tenants/${tenantId}/endusers?companyExternalId=acme`)).body.data;
    assert.deepEqual(byCompany.map((row: { externalId: string }) => row.externalId).sort(), ['user-0', 'user-1']);
  });

  it('lists activities filtered by person, action and date range, with ISO dates', async () => {
    const byUser = (await get(`/api/v1/tenants/${tenantId}/activities?externalId=user-0`)).body.data;
    assert.equal(byUser.length, 5);
    assert.deepEqual(Object.keys(byUser[0]).sort(), ['action', 'assetExternalId', 'companyExternalId', 'count', 'date', 'email', 'endUserId', 'externalId', 'id', 'info', 'insertId', 'projectExternalId', 'receivedAt', 'weight']);
    assert.equal(byUser[0].receivedAt, '2024-06-01T00:00:00.000Z');
    const logins = (await get(`/api/v1/tenants/${tenantId}/activities?action=login&limit=1000`)).body.data;
    assert.equal(logins.length, 12);
    const ranged = (await get(`/api/v1/tenants/${tenantId}/activities?from=2024-01-03&to=2024-01-06`)).body.data;
    assert.deepEqual(ranged.map((row: { date: string }) => row.date), ['2024-01-03T00:00:00.000Z', '2024-01-04T00:00:00.000Z', '2024-01-05T00:00:00.000Z']);
    const byEmail = (await get(`/api/v1/tenants/${tenantId}/activities?email=loner@example.com`)).body.data;
    assert.equal(byEmail[0].insertId, 'loner');
  });

  it('pages with limit and cursor through every row exactly once', async () => {
    const seen: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const reply = await get(`/api/v1/tenants/${tenantId}/activities?limit=7${cursor ? `&cursor=${cursor}` : ''}`);
      assert.equal(reply.status, 200);
      seen.push(...reply.body.data.map((row: { id: number }) => row.id));
      cursor = reply.body.nextCursor;
      pages += 1;
    } while (cursor);
    assert.equal(pages, 4);
    assert.equal(seen.length, 26);
    assert.equal(new Set(seen).size, 26);
  });

  it('lists companies', async () => {
    const reply = await get(`/api/v1/tenants/${tenantId}/companies`);
    assert.deepEqual(reply.body.data.map((row: { externalId: string; name: string; domains: string[] }) => [row.externalId, row.name, row.domains]), [['acme', 'acme', ['example.com']], ['globex', 'globex', ['example.com']]]);
  });

  it('keeps tenants apart', async () => {
    const other = (await get(`/api/v1/tenants/${otherTenantId}/activities`)).body.data;
    assert.deepEqual(other.map((row: { insertId: string }) => row.insertId), ['other']);
  });

  it('refuses bad parameters with 400 naming the parameter, and unknown tenants with 404', async () => {
    const cases: Array<[string, number, RegExp]> = [
      ['/endusers?limit=0', 400, /^limit: must be a whole number from 1 to 1000$/],
      ['/endusers?limit=1001', 400, /^limit:/],
      ['/endusers?limit=ten', 400, /^limit:/],
      ['/activities?cursor=garbage', 400, /^cursor: not a cursor this API returned$/],
      ['/activities?from=yesterday', 400, /^from: "yesterday" is not a valid date$/],
      ['/activities?to=2024-02-31', 400, /^to:/],
      ['/endusers?email=nope', 400, /^email:/],
      ['/endusers?externalId=a&externalId=b', 400, /^externalId: give it once$/],
    ];
    for (const [path, status, error] of cases) {
      const reply = await get(`/api/v1/tenants/${tenantId}${path}`);
      assert.equal(reply.status, status, path);
      assert.match(reply.body.error, error, path);
    }
    assert.equal((await get('/api/v1/tenants/999999/endusers')).status, 404);
    assert.equal((await get('/api/v1/tenants/abc/endusers')).status, 400);
  });
});

describe('read API without ADMIN_TOKEN', () => {
  let daemon: InProcessDaemon;

  useDaemon({ settings: { ADMIN_TOKEN: '' }, worker: false }, (parts) => ({ daemon } = parts));

  it('answers 401 and says why', async () => {
    const reply = await request(`${daemon.baseUrl}/api/v1/tenants/1/endusers`, { headers: { authorization: 'Bearer anything-at-all-here' } });
    assert.equal(reply.status, 401);
    assert.equal(reply.body.error, 'the admin API is off: ADMIN_TOKEN is not set');
  });
});
