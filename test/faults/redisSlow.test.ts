/**
 * Redis that holds writes longer than ENQUEUE_TIMEOUT_MS (its own redis-server, paused with CLIENT PAUSE): the
 * receiver answers 503 with Retry-After to every request of the shared enqueue, and although the jobs land once
 * Redis resumes, none of their events is stored: the receiver's withdrawal follows them on the same connection.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import IORedis from 'ioredis';
import { createTestEnv, openMigrated, waitFor, TestEnv } from '../support/testEnv';
import { newTenant, startInProcess, InProcessDaemon } from '../support/daemon';
import { Queue } from 'bullmq';
import { post } from '../support/http';
import { waitForQueueDrained } from '../support/settled';
import { INGEST_QUEUE, queuePrefix } from '../../src/queue/ingestQueue';
import { withdrawnKey } from '../../src/queue/receiverDecision';
import { startOwnRedis, OwnRedis } from '../support/redisServer';
import { Db } from '../../src/store/db';

describe('faults: Redis slower than ENQUEUE_TIMEOUT_MS', function () {
  this.timeout(60000);
  let redisDir: string;
  let redis: OwnRedis;
  let env: TestEnv;
  let db: Db;
  let receiver: InProcessDaemon;

  before(async () => {
    redisDir = fs.mkdtempSync(path.join(os.tmpdir(), 'activityd-redis-'));
    redis = await startOwnRedis(redisDir);
    env = createTestEnv({ REDIS_URL: redis.url, ENQUEUE_TIMEOUT_MS: '200', RETRY_AFTER_SECONDS: '9' });
    db = await openMigrated(env.config);
    receiver = await startInProcess(env.config, db, { worker: false });
  });
  after(async () => {
    await receiver?.stop();
    await db?.destroy();
    await env?.cleanup();
    await redis?.stop();
    fs.rmSync(redisDir, { recursive: true, force: true });
  });

  it('a shared enqueue Redis does not acknowledge in time is a 503 for every request in it, on the Planhat and the HTTP V2 routes, and none of their events is stored once Redis resumes', async () => {
    const tenant = await newTenant(db);
    const url = `${receiver.baseUrl}/analytics/${tenant.token}`;
    await waitFor('tenant known', async () => (await post(url, { externalId: 'warm', action: 'warm' })).status === 202, 5000);
    const admin = new IORedis(redis.url, { maxRetriesPerRequest: 1 });
    const queue = new Queue(INGEST_QUEUE, { connection: admin, prefix: queuePrefix(env.config) });
    const slow = Array.from({ length: 6 }, (_, i) => ({ externalId: 'slow', action: 'x', insertId: `slow-${i}` }));
    const sendAll = () =>
      Promise.all([
        ...slow.map((event) => post(url, event)),
        post(`${receiver.baseUrl}/2/httpapi`, { api_key: tenant.token, events: [{ event_type: 'x', user_id: 'slow', insert_id: 'slow-http' }] }),
      ]);
    try {
      await admin.call('CLIENT', 'PAUSE', '4000', 'WRITE');
      const replies = await sendAll();
      for (const reply of replies) {
        assert.equal(reply.status, 503, reply.text);
        assert.equal(reply.headers.get('retry-after'), '9');
        assert.match(reply.body.error, /did not acknowledge within 200 ms \(ENQUEUE_TIMEOUT_MS\); none of the events is stored, resend them/);
      }
      assert.equal(replies[0].body.accepted, 0);
      await admin.call('CLIENT', 'UNPAUSE');
      // The jobs reach Redis after the receiver gave up (beside the warm-up's, no worker runs yet), fewer than the
      // requests (they were gathered), each withdrawn.
      const withdrawals = async () => (await admin.keys(withdrawnKey(queuePrefix(env.config), '*'))).length;
      const jobs = await waitFor('the late jobs in Redis', async () => {
        const late = (await queue.getWaitingCount()) - 1;
        return late > 0 && (await withdrawals()) === late && late;
      }, 10000);
      assert.ok(jobs < replies.length, `${jobs} jobs for ${replies.length} requests`);
      const worker = await startInProcess(env.config, db);
      try {
        await waitForQueueDrained(env);
        const stored = await db('activities').where({ tenant_id: tenant.id }).whereNot({ action: 'warm' }).count({ n: '*' });
        assert.equal(Number(stored[0].n), 0, 'nothing of a request answered 503 is stored');
        assert.equal(await withdrawals(), 0, 'the worker removed the withdrawals it used');
        // Resent, each is stored once.
        for (const reply of await sendAll()) assert.ok(reply.status === 202 || reply.status === 200, reply.text);
        await waitForQueueDrained(env);
        const rows = (await db('activities').where({ tenant_id: tenant.id, action: 'x' }).select('insert_id')).map((row: { insert_id: string }) => row.insert_id).sort();
        assert.deepEqual(rows, [...slow.map((event) => event.insertId), 'slow-http'].sort());
      } finally {
        await worker.stop();
      }
    } finally {
      await admin.call('CLIENT', 'UNPAUSE').catch(() => undefined);
      await queue.close();
      admin.disconnect();
    }
  });
});
