/**
 * Redis that holds writes longer than ENQUEUE_TIMEOUT_MS (its own redis-server, paused with CLIENT PAUSE): the
 * receiver answers 503 with Retry-After and says the events may or may not be stored, since the jobs may still land
 * once Redis answers; it never claims that nothing was accepted when it cannot know.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import IORedis from 'ioredis';
import { createTestEnv, openMigrated, waitFor, TestEnv } from '../support/testEnv';
import { newTenant, startInProcess, InProcessDaemon } from '../support/daemon';
import { post } from '../support/http';
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

  it('an enqueue Redis does not acknowledge in time is a 503 saying the events may or may not be stored, on the Planhat and the HTTP V2 routes', async () => {
    const tenant = await newTenant(db);
    const url = `${receiver.baseUrl}/analytics/${tenant.token}`;
    await waitFor('tenant known', async () => (await post(url, { externalId: 'warm', action: 'warm' })).status === 202, 5000);
    const admin = new IORedis(redis.url, { maxRetriesPerRequest: 1 });
    try {
      await admin.call('CLIENT', 'PAUSE', '3000', 'WRITE');
      const [planhat, httpApi] = await Promise.all([
        post(url, { externalId: 'slow', action: 'x', insertId: 'slow-1' }),
        post(`${receiver.baseUrl}/2/httpapi`, { api_key: tenant.token, events: [{ event_type: 'x', user_id: 'slow', insert_id: 'slow-2' }] }),
      ]);
      for (const reply of [planhat, httpApi]) {
        assert.equal(reply.status, 503, reply.text);
        assert.equal(reply.headers.get('retry-after'), '9');
        assert.match(reply.body.error, /did not acknowledge the events in time \(ENQUEUE_TIMEOUT_MS\): they may or may not be stored; resend them with their insert ids/);
        assert.doesNotMatch(reply.body.error, /nothing was accepted/);
      }
      assert.equal(planhat.body.accepted, 0);
    } finally {
      await admin.call('CLIENT', 'UNPAUSE').catch(() => undefined);
      admin.disconnect();
    }
  });
});
