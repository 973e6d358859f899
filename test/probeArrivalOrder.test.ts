/**
 * Failing reproduction of a probe finding (/work/wt/_prompts/probe-findings.md, 1): with two worker processes (a
 * supported PostgreSQL deployment), identify requests for one person sent one after another, each answered before
 * the next is sent, apply out of order, and the last $set can lose to an earlier one. docs/events.md ("Arrival
 * order") says the requests apply in the order the receiver queued them.
 */
import assert from 'node:assert/strict';
import { waitFor, ADMIN_TOKEN, TestEnv, onlyOn } from './support/testEnv';
import { newTenant, spawnActivityd, ChildDaemon, InProcessDaemon } from './support/daemon';
import { post, request } from './support/http';
import { useDaemon } from './support/fixtures';
import type { Db } from '../src/store/db';

describe('probe: property updates of consecutive requests with two PostgreSQL worker processes', function () {
  this.timeout(180000);
  let env: TestEnv;
  let db: Db;
  let receiver: InProcessDaemon;
  let workers: ChildDaemon[];
  useDaemon({ worker: false }, (parts) => ({ env, db, daemon: receiver, children: workers } = parts));

  it('300 identify requests answered one by one apply in the order they were sent; the last $set wins', async function () {
    onlyOn(this, 'postgres', 'several worker processes share one database only on PostgreSQL');
    workers.push(...[0, 1].map(() => spawnActivityd(['worker'], { ...env.env, LOG_LEVEL: 'info' })));
    await Promise.all(workers.map((worker) => worker.waitForOutput(/worker consuming the ingest queue/)));
    const tenant = await newTenant(db);
    await waitFor('the tenant known', async () => ((await post(`${receiver.baseUrl}/2/httpapi`, { api_key: tenant.token, events: [{ user_id: 'warm', event_type: '$identify' }] })).status === 200 ? true : undefined), 10000);
    const sends = 300;
    for (let i = 0; i < sends; i++) {
      const body = new URLSearchParams({ api_key: tenant.token, identification: JSON.stringify({ user_id: 'ordered', user_properties: { $set: { last: i }, $append: { trail: i } } }) }).toString();
      const answer = await request(`${receiver.baseUrl}/identify`, { method: 'POST', raw: body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      assert.equal(answer.status, 200, answer.text);
    }
    const properties = await waitFor('every update applied', async () => {
      const page = await request(`${receiver.baseUrl}/api/v1/tenants/${tenant.id}/endusers?externalId=ordered`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      const now = (page.body.data as Array<Record<string, any>>)[0]?.properties;
      return now?.trail?.length === sends ? now : undefined;
    }, 60000, 200);
    const misplaced = (properties.trail as number[]).flatMap((value, index) => (value === index ? [] : [`${index}:${value}`]));
    assert.deepEqual(misplaced.slice(0, 20), [], 'the $append of request i sits at place i (arrival order, docs/events.md)');
    assert.equal(properties.last, sends - 1, 'the last $set sent is the value kept');
  });
});
