/** A worker killed with SIGKILL again and again while it writes jobs that many requests share: the stalled jobs come back, and idempotent writes absorb the repeats. */
import assert from 'node:assert/strict';
import { waitFor, countRows, TestEnv } from '../support/testEnv';
import { newTenant, spawnActivityd, ChildDaemon, InProcessDaemon } from '../support/daemon';
import { post, request } from '../support/http';
import { Db } from '../../src/store/db';
import { connectRedis } from '../../src/queue/redis';
import { openIngestQueue } from '../../src/queue/ingestQueue';
import { useDaemon } from '../support/fixtures';

const CONSUMING = /worker consuming the ingest queue/;
const EVENTS = Number(process.env.KILL_TEST_EVENTS ?? 20000);
// At most JOB_MAX_STALLED (default 5): a job may be orphaned that many times before it is kept as failed instead.
const KILLS = Number(process.env.KILL_TEST_KILLS ?? 5);

describe('faults: worker killed with SIGKILL during a run', function () {
  this.timeout(240000);
  let env: TestEnv;
  let db: Db;
  let receiver: InProcessDaemon;
  let workers: ChildDaemon[];

    // Short locks and stalled checks, so a dead worker's jobs come back within seconds rather than the default 30 s.
  useDaemon(
    {
      settings: { JOB_LOCK_MS: '2000', STALLED_CHECK_MS: '1000' },
      worker: false,
    },
    (parts) => ({ env, db, daemon: receiver, children: workers } = parts),
  );

  it(`${EVENTS} events in requests that share jobs, the worker SIGKILLed mid-write again and again (up to ${KILLS} times) and restarted each time: every accepted event is stored exactly once, no job failed`, async () => {
    const tenant = await newTenant(db);
    const url = `${receiver.baseUrl}/analytics/bulk/${tenant.token}`;
    await waitFor('tenant known', async () => (await post(url, [{ id: 'warmup', action: 'x', insertId: 'warm' }])).status === 202, 5000);
    const stored = () => countRows(db, 'activities', { tenant_id: tenant.id });
    const workerEnv = { ...env.env, LOG_LEVEL: 'debug', WORKER_CONCURRENCY: '16', BATCH_MAX_EVENTS: '1000' };
    const startWorker = async () => {
      const worker = spawnActivityd(['worker'], workerEnv);
      workers.push(worker);
      await worker.waitForOutput(CONSUMING);
      return worker;
    };

    // Requests of 50 events, 100 people, 8 at a time (so requests that arrive while an enqueue is in flight share the
    // next job), while the worker is killed and restarted.
    const accepted: string[] = [];
    const refusals: string[] = [];
    const perRequest = 50;
    const requests = Math.ceil(EVENTS / perRequest);
    const sending = (async () => {
      let next = 0;
      const lane = async () => {
        while (next < requests) {
          const r = next++;
          const events = Array.from({ length: Math.min(perRequest, EVENTS - r * perRequest) }, (_, i) => ({ id: `person-${(r * perRequest + i) % 100}`, email: `person${(r * perRequest + i) % 100}@kill.example`, action: 'kill', insertId: `kill-${r}-${i}` }));
          const reply = await post(url, events);
          if (reply.status === 202) accepted.push(...events.map((event) => event.insertId));
          else refusals.push(`request ${r}: ${reply.status} ${reply.text}`);
        }
      };
      await Promise.all(Array.from({ length: 8 }, lane));
    })();

    let kills = 0;
    for (; kills < KILLS; kills++) {
      const worker = await startWorker();
      const before = await stored();
      // Mid-write: after this worker has committed something, a random moment later.
      await waitFor('the worker writing', async () => (await stored()) > before, 60000, 20);
      await new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * 300)));
      worker.signal('SIGKILL');
      await worker.exited;
      if ((await stored()) >= EVENTS + 1) break;
    }
    await sending;
    assert.deepEqual(refusals, []);
    const metrics = (await request(`${receiver.baseUrl}/metrics`)).text;
    const jobs = Number(/^activityd_enqueue_duration_seconds_count (\d+)/m.exec(metrics)?.[1]);
    assert.ok(jobs < requests, `${jobs} jobs for ${requests + 1} requests: requests shared jobs`);
    // How many kills fit before the last event is stored depends on the machine's speed; at least two always do.
    assert.ok(kills >= Math.min(KILLS, 2), `killed ${kills} times while events were still being written`);

    await startWorker();
    await waitFor('every accepted event stored', async () => (await stored()) >= accepted.length + 1, 120000, 200);
    const redis = connectRedis(env.config.REDIS_URL, 'producer');
    const queue = openIngestQueue(env.config, redis);
    try {
      await waitFor('the queue empty', async () => {
        const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'prioritized');
        return Object.values(counts).every((n) => n === 0) || (counts.failed > 0 && counts);
      }, 30000, 200);
      assert.equal((await queue.getJobCounts('failed')).failed, 0, 'no job failed');
    } finally {
      await queue.close();
      redis.disconnect();
    }
    const rows: Array<{ insert_id: string }> = await db('activities').where({ tenant_id: tenant.id }).select('insert_id');
    assert.equal(accepted.length, EVENTS);
    assert.equal(rows.length, accepted.length + 1, 'none twice, none extra');
    assert.deepEqual(new Set(rows.map((row) => row.insert_id)), new Set(['warm', ...accepted]));
    assert.equal(await countRows(db, 'end_users', { tenant_id: tenant.id }), 101, 'one end user per person');
    // The killed workers' jobs came back through the stalled check, not only because nothing was in flight.
    const stalled = workers.flatMap((worker) => worker.output().match(/job stalled/g) ?? []).length;
    const duplicates = workers.reduce((sum, worker) => sum + [...worker.output().matchAll(/"duplicate":(\d+)/g)].reduce((n, match) => n + Number(match[1]), 0), 0);
    assert.ok(stalled > 0, 'some jobs stalled and came back');
    process.stdout.write(`      (${requests} requests in ${jobs} jobs, ${kills} kills, ${stalled} stalled jobs recovered, ${duplicates} repeated events absorbed)\n`);
  });
});
