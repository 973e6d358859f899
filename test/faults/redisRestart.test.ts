/**
 * Redis killed mid-run and started again (its own redis-server, AOF fsynced on every write): the receiver answers
 * 503 with Retry-After while it is down (every request of the shared enqueue Redis died under too) and /readyz says
 * so; afterwards every event answered 2xx is stored exactly once, none answered 503 is (whether refused while Redis
 * was down or in an enqueue Redis died under, acknowledged or not), a resend of those is stored once, and the worker
 * resumes by itself.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createTestEnv, openMigrated, waitFor, TestEnv } from '../support/testEnv';
import { waitForQueueDrained } from '../support/settled';
import { newTenant, spawnActivityd, ensureStopped, ChildDaemon } from '../support/daemon';
import { post, request } from '../support/http';
import { startOwnRedis, OwnRedis } from '../support/redisServer';
import { Db } from '../../src/store/db';

const LISTENING = /"port":(\d+),"msg":"receiver listening"/;
const CONSUMING = /worker consuming the ingest queue/;

describe('faults: Redis stopped mid-run and started again', function () {
  this.timeout(120000);
  let env: TestEnv;
  let db: Db;
  let redis: OwnRedis;
  let redisDir: string;
  const children: ChildDaemon[] = [];

  before(async () => {
    redisDir = fs.mkdtempSync(path.join(os.tmpdir(), 'activityd-redis-'));
    redis = await startOwnRedis(redisDir);
    // A job the worker took just as Redis died is left active with its lock; it comes back through the stalled
    // check once the lock runs out, so short values keep the test short (the defaults make that up to a minute).
    env = createTestEnv({ REDIS_URL: redis.url, RETRY_AFTER_SECONDS: '7', ENQUEUE_TIMEOUT_MS: '1000', JOB_LOCK_MS: '3000', STALLED_CHECK_MS: '1000' });
    db = await openMigrated(env.config);
  });
  after(async () => {
    await Promise.all(children.map(ensureStopped));
    await db.destroy();
    await redis.start().catch(() => undefined);
    await env.cleanup();
    await redis.stop();
    fs.rmSync(redisDir, { recursive: true, force: true });
  });

  it('while down: 503 with Retry-After and /readyz 503; after: every event answered 2xx stored exactly once, none answered 503 (refused while down or in an enqueue Redis died under), each resent stored once, the worker resumed by itself', async () => {
    const tenant = await newTenant(db);
    const receiver = spawnActivityd(['receiver'], { ...env.env, LOG_LEVEL: 'info' });
    const worker = spawnActivityd(['worker'], { ...env.env, LOG_LEVEL: 'info', WORKER_CONCURRENCY: '8' });
    children.push(receiver, worker);
    const base = `http://127.0.0.1:${(await receiver.waitForOutput(LISTENING))[1]}`;
    await worker.waitForOutput(CONSUMING);
    const url = `${base}/analytics/${tenant.token}`;
    await waitFor('tenant known', async () => (await post(url, [{ externalId: 'warmup', action: 'x', insertId: 'warm' }])).status === 202, 10000);

    const accepted: string[] = ['warm'];
    const sent: string[] = ['warm'];
    const unexpected: string[] = [];
    const refused: Array<Array<{ externalId: string; action: string; insertId: string }>> = [];
    /** Events of requests in flight when Redis died (their shared enqueue failed or went unanswered), as opposed to refused while it was down. */
    const inFlightAtKill = new Set<string>();
    let unavailable = 0;
    let sending = true;
    const lane = async (lane: number) => {
      for (let round = 0; sending; round++) {
        const events = Array.from({ length: 10 }, (_, i) => ({ externalId: `user-${(round + i) % 25}`, action: 'redis', insertId: `redis-${lane}-${round}-${i}` }));
        sent.push(...events.map((event) => event.insertId));
        const reply = await post(url, events).catch((error: Error) => ({ status: 0, text: error.message, headers: new Headers() }));
        if (reply.status === 202) accepted.push(...events.map((event) => event.insertId));
        else if (reply.status === 503 && reply.headers.get('retry-after') === '7') {
          unavailable += 1;
          refused.push(events);
          if (/the connection to Redis failed|did not acknowledge/.test(reply.text)) for (const event of events) inFlightAtKill.add(event.insertId);
          await new Promise((resolve) => setTimeout(resolve, 50));
        } else unexpected.push(`${reply.status} ${reply.text}`);
      }
    };
    const lanes = Promise.all([0, 1, 2, 3].map(lane));
    await waitFor('load running', async () => accepted.length > 500, 20000, 20);

    // Killed again (up to five times) until a kill lands while an enqueue is in flight: the lanes spend most of their
    // time outside one, so a single kill misses about one run in three.
    let kills = 0;
    while (kills < 5 && inFlightAtKill.size === 0) {
      kills += 1;
      const unavailableBefore = unavailable;
      await redis.kill();
      await waitFor('a 503 with Retry-After', async () => unavailable > unavailableBefore, 10000, 20);
      const ready = await request(`${base}/readyz`);
      assert.equal(ready.status, 503);
      assert.match(ready.body.redis, /^down: /);
      assert.equal(ready.body.database, 'ok');
      const acceptedWhileDown = accepted.length;
      await new Promise((resolve) => setTimeout(resolve, 1500));
      assert.equal(accepted.length, acceptedWhileDown, 'nothing is answered 202 while Redis is down');

      await redis.start();
      await waitFor('/readyz ready again', async () => (await request(`${base}/readyz`)).status === 200, 20000, 100);
      const acceptedAtReturn = accepted.length;
      await waitFor('202s again', async () => accepted.length > acceptedAtReturn + 500, 20000, 20);
    }
    sending = false;
    await lanes;
    assert.deepEqual(unexpected, [], 'every answer was 202, or 503 with Retry-After');

    // The same worker process, never restarted, stores everything.
    const stored = async () => (await db('activities').where({ tenant_id: tenant.id }).select('insert_id')).map((row: { insert_id: string }) => row.insert_id);
    await waitFor('every accepted event stored', async () => {
      const ids = new Set(await stored());
      return accepted.every((id) => ids.has(id));
    }, 60000, 250).catch(async (error: Error) => {
      const ids = new Set(await stored());
      throw new Error(`${error.message}: ${accepted.filter((id) => !ids.has(id)).length} of ${accepted.length} missing\nworker:\n${worker.output().slice(-2000)}`);
    });
    await waitForQueueDrained(env);
    const rows = await stored();
    assert.equal(rows.length, new Set(rows).size, 'no event stored twice');
    const sentSet = new Set(sent);
    assert.ok(rows.every((id) => sentSet.has(id)), 'nothing unsent is stored');
    // A request answered 503: none of its events is stored, also when Redis had taken its job and died with the
    // acknowledgement on the wire (workers store a job only once its receiver confirmed it).
    const refusedIds = refused.flat().map((event) => event.insertId);
    const storedSet = new Set(rows);
    assert.deepEqual(refusedIds.filter((id) => storedSet.has(id)), [], 'no event of a request answered 503 is stored, whether refused while Redis was down or in an enqueue it died under');
    assert.equal(rows.length, accepted.length);
    // Resent, each is stored once.
    for (const events of refused) assert.equal((await post(url, events)).status, 202);
    await waitForQueueDrained(env);
    const after = await stored();
    assert.equal(after.length, accepted.length + refusedIds.length);
    assert.ok(inFlightAtKill.size > 0, 'some requests were in a shared enqueue when Redis died');
    assert.equal(new Set(after).size, after.length, 'no event stored twice');
    assert.equal(worker.child.exitCode, null, 'the worker kept running');
    process.stdout.write(`      (${kills} kill(s), ${accepted.length} events accepted, ${unavailable} requests answered 503, ${inFlightAtKill.size} events in enqueues Redis died under, none stored, each stored once after a resend)\n`);
  });
});
