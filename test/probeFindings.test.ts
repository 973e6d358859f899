/**
 * Failing reproductions of bugs an outside probe found in the Identify APIs and properties (see
 * /work/wt/_prompts/probe-findings.md): each test states what the docs promise and fails while the bug is there.
 */
import assert from 'node:assert/strict';
import { waitFor, ADMIN_TOKEN, TEST_DATABASE_NAME } from './support/testEnv';
import { newTenant, InProcessDaemon } from './support/daemon';
import { post, request } from './support/http';
import { useDaemon } from './support/fixtures';
import { settledDeliveries } from './support/settled';
import { Db } from '../src/store/db';
import { pruneActivities } from '../src/store/activityPruning';

const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const form = { 'content-type': 'application/x-www-form-urlencoded' };

describe(`probe findings: properties and the Identify API (real ${TEST_DATABASE_NAME})`, () => {
  let db: Db;
  let daemon: InProcessDaemon;
  let tenant: { id: number; token: string };
  useDaemon({}, (parts) => ({ db, daemon } = parts));

  beforeEach(async () => {
    tenant = await newTenant(db);
    await waitFor('the tenant known', async () => {
      const answer = await post(`${daemon.baseUrl}/2/httpapi`, { api_key: tenant.token, events: [{ user_id: 'warm', event_type: '$identify' }] });
      return answer.status === 401 ? undefined : answer;
    }, 5000);
  });

  const propertiesOf = async (externalId: string) =>
    ((await request(`${daemon.baseUrl}/api/v1/tenants/${tenant.id}/endusers?externalId=${externalId}`, { headers: admin })).body.data as Array<Record<string, any>>)[0]?.properties;

  function identify(identification: unknown) {
    const body = new URLSearchParams({ api_key: tenant.token, identification: JSON.stringify(identification) }).toString();
    return request(`${daemon.baseUrl}/identify`, { method: 'POST', raw: body, headers: form });
  }

  it('an identification whose user_properties is not an object is refused (400), not acknowledged and dropped without a word', async () => {
    const answer = await identify({ user_id: 'typo', user_properties: 'plan=Enterprise' });
    assert.equal(answer.status, 400, `docs/http-api.md: a value of the wrong type is a 400 naming it; got ${answer.status} ${answer.text}`);
    assert.match(answer.text, /user_properties/);
  });

  it('an HTTP V2 event whose user_properties is not an object says so in its delivery log entry', async () => {
    const answer = await post(`${daemon.baseUrl}/2/httpapi`, { api_key: tenant.token, events: [{ user_id: 'typo2', event_type: '$identify', insert_id: 'typo2-1', user_properties: 'plan=Enterprise' }] });
    assert.equal(answer.status, 200, answer.text);
    const [delivery] = (await settledDeliveries(daemon.baseUrl, tenant.id, 2)).filter((d: any) => d.endpoint === 'httpapi' && d.accepted === 1).slice(-1) as any[];
    const detail = (await request(`${daemon.baseUrl}/api/v1/tenants/${tenant.id}/deliveries/${delivery.id}`, { headers: admin })).body;
    const event = (detail.events as Array<Record<string, any>>).find((e) => e.insertId === 'typo2-1');
    assert.match(String(event?.error), /user_properties/, 'the update was not applied: the delivery log must say why (no silent loss)');
  });

  it('a redelivered event whose activity was pruned by ACTIVITY_RETENTION_DAYS does not apply its $add again', async () => {
    const old = { user_id: 'late', event_type: 'Played', insert_id: 'late-1', time: Date.UTC(2020, 0, 1), user_properties: { $add: { plays: 1 } } };
    assert.equal((await post(`${daemon.baseUrl}/2/httpapi`, { api_key: tenant.token, events: [old] })).status, 200);
    await waitFor('applied', async () => ((await propertiesOf('late'))?.plays === 1 ? true : undefined), 20000, 100);
    await pruneActivities(db, Date.UTC(2021, 0, 1));
    // Amplitude retries a delivery for hours; the same event (same insert id) arrives again.
    assert.equal((await post(`${daemon.baseUrl}/2/httpapi`, { api_key: tenant.token, events: [old] })).status, 200);
    await waitFor('the redelivery settled', async () => {
      const data = (await request(`${daemon.baseUrl}/api/v1/tenants/${tenant.id}/deliveries?limit=100`, { headers: admin })).body.data as Array<Record<string, any>>;
      return data.length >= 3 && data[0].outcomes.pending === 0 ? true : undefined;
    }, 20000, 100);
    assert.deepEqual(await propertiesOf('late'), { plays: 1 }, 'a redelivery (same insert id) applies its operations once (docs/guarantees.md)');
  });

  it('the delivery log of a request whose activity was pruned by ACTIVITY_RETENTION_DAYS does not show its event as pending for ever', async () => {
    const old = { user_id: 'pruned', event_type: 'Played', insert_id: 'pruned-1', time: Date.UTC(2020, 0, 1) };
    assert.equal((await post(`${daemon.baseUrl}/2/httpapi`, { api_key: tenant.token, events: [old] })).status, 200);
    const [, delivery] = await settledDeliveries(daemon.baseUrl, tenant.id, 2);
    assert.equal(delivery.outcomes.stored, 1);
    await pruneActivities(db, Date.UTC(2021, 0, 1));
    const after = (await request(`${daemon.baseUrl}/api/v1/tenants/${tenant.id}/deliveries/${delivery.id}`, { headers: admin })).body;
    assert.equal(after.outcomes.pending, 0, `"pending" means not yet handled (docs/operations.md); got ${JSON.stringify(after.outcomes)}`);
  });
});
