/** One /metrics scrape of any receiver shows the receivers' counters and histograms summed over every receiver process. */
import assert from 'node:assert/strict';
import { TestEnv, waitFor } from './support/testEnv';
import { startReceivers, ensureStopped, ChildDaemon, newTenant } from './support/daemon';
import { post, request } from './support/http';
import type { Db } from '../src/store/db';
import { useReceivers } from './support/fixtures';


/** The value of one sample line of a Prometheus text, or undefined when absent. */
function sample(text: string, line: string): number | undefined {
  const found = text.split('\n').find((row) => row.startsWith(`${line} `));
  return found === undefined ? undefined : Number(found.slice(line.length + 1));
}

describe('metrics across receiver processes (two real receivers, one Redis)', function () {
  this.timeout(60000);
  let env: TestEnv;
  let db: Db;
  let receivers: ChildDaemon[] = [];
  let urls: string[] = [];

  useReceivers(2, {}, (parts) => ({ env, db, receivers, urls } = parts));

  it('a scrape of either receiver sums both processes: events accepted, requests by route and status, the enqueue histogram', async () => {
    const tenant = await newTenant(db);
    const sent = [3, 5];
    for (const [i, url] of urls.entries()) {
      for (let n = 0; n < sent[i]; n++) assert.equal((await post(`${url}/analytics/${tenant.token}`, { externalId: 'u', action: 'summed', insertId: `summed-${i}-${n}` })).status, 202);
    }
    for (const url of urls) {
      // The other process's figures arrive with its next publication, every few seconds.
      const text = await waitFor(`${url}'s scrape summing both receivers`, async () => {
        const scrape = (await request(`${url}/metrics`)).text;
        return sample(scrape, 'activityd_events_accepted_total') === 8 && scrape;
      }, 20000, 200);
      assert.equal(sample(text, 'activityd_receiver_processes'), 2);
      assert.equal(sample(text, 'activityd_http_requests_total{route="analytics",status="202"}'), 8);
      assert.equal(sample(text, 'activityd_enqueue_duration_seconds_count'), 8);
      assert.equal(sample(text, 'activityd_enqueue_duration_seconds_bucket{le="+Inf"}'), 8);
      // Node's own metrics describe the process that answered, once, not a sum.
      assert.equal(text.split('\n').filter((row) => row.startsWith('process_resident_memory_bytes ')).length, 1);
    }
  });

  it('receivers that stop, three at once, leave the process count at once and the sums where they were (no fall for Prometheus to read as a reset)', async () => {
    const tenant = await newTenant(db);
    const more = await startReceivers(env.env, 2, receivers);
    for (const [i, url] of more.entries()) assert.equal((await post(`${url}/analytics/${tenant.token}`, { externalId: 'u', action: 'retired', insertId: `retired-${i}` })).status, 202);
    await waitFor('the scrape summing four receivers', async () => sample((await request(`${urls[0]}/metrics`)).text, 'activityd_events_accepted_total') === 10, 20000, 200);
    await Promise.all([ensureStopped(receivers[1]), ensureStopped(receivers[2]), ensureStopped(receivers[3])]);
    const text = (await request(`${urls[0]}/metrics`)).text;
    assert.equal(sample(text, 'activityd_receiver_processes'), 1);
    assert.equal(sample(text, 'activityd_events_accepted_total'), 10);
    assert.equal(sample(text, 'activityd_http_requests_total{route="analytics",status="202"}'), 10);
    assert.equal(sample(text, 'activityd_enqueue_duration_seconds_count'), 10);
  });
});
