import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import pino from 'pino';
import { countRows, createTestEnv, waitFor, TestEnv, ADMIN_TOKEN } from '../support/testEnv';
import { Db } from '../../src/store/db';
import { startOwnRedis, OwnRedis } from '../support/redisServer';
import { newTenant, InProcessDaemon } from '../support/daemon';
import { post, request } from '../support/http';
import { useDaemon } from '../support/fixtures';
import { parseRedisUrl } from '../../config/parsers';
import { connectRedis, RedisClient } from '../../src/queue/redis';
import { createDeliveryOutbox, deliveryListKey, MAX_BUFFERED_BYTES } from '../../src/queue/deliveryOutbox';
import { finishDelivery, startDelivery } from '../../src/deliveries/deliveryRecord';
import { PAGE_MAX_BYTES } from '../../src/store/readQueries';

describe('bounded buffers: the delivery-log buffer kept while Redis is down is bounded in bytes', () => {
  let env: TestEnv;
  let redisServer: OwnRedis;
  let redis: RedisClient;

  before(async () => {
    env = createTestEnv();
    redisServer = await startOwnRedis(env.dir);
    redis = connectRedis(parseRedisUrl(redisServer.url), 'producer');
  });
  after(async () => {
    redis.disconnect();
    await redisServer.stop();
    await env.cleanup();
  });

  it('while Redis is down the oldest records go once the buffer holds MAX_BUFFERED_BYTES, with a warning at most every 5 s giving the count', async () => {
    const lines: Array<{ msg: string; dropped?: number }> = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(JSON.parse(String(chunk)));
        done();
      },
    });
    const outbox = createDeliveryOutbox(redis, 'buffer-test', pino({ level: 'warn' }, sink));
    await waitFor('the outbox connected', async () => redis.status === 'ready');
    await redisServer.kill();
    await waitFor('the outbox saw Redis go', async () => redis.status !== 'ready');

    // Requests of 100 invalid events with an 8 KB User-Agent: about 7 KB each once recorded, 28 MB for 4,000.
    const rejected = Array.from({ length: 100 }, (_, index) => ({ index, error: 'action: missing: must be a non-empty string' }));
    const ids: string[] = [];
    for (let i = 0; i < 4000; i++) {
      const record = finishDelivery(startDelivery('analytics', 'agent/'.repeat(1400), Date.now()), 1, 400, 0, rejected);
      ids.push(record.id);
      outbox.record(record);
    }

    await redisServer.start();
    await waitFor('the outbox reconnected', async () => redis.status === 'ready');
    await outbox.flush();
    const kept = await redis.lrange(deliveryListKey('buffer-test'), 0, -1);
    const keptBytes = kept.reduce((sum, text) => sum + Buffer.byteLength(text), 0);
    assert.ok(keptBytes <= MAX_BUFFERED_BYTES, `kept ${keptBytes} bytes`);
    assert.ok(keptBytes > MAX_BUFFERED_BYTES * 0.9, `kept only ${keptBytes} bytes`);
    const keptIds = new Set(kept.map((text) => JSON.parse(text).record.id));
    assert.ok(keptIds.has(ids[ids.length - 1]), 'the newest record is kept');
    assert.ok(!keptIds.has(ids[0]), 'the oldest record is dropped');
    const warnings = lines.filter((line) => /delivery log buffer is full/.test(line.msg));
    assert.ok(warnings.length >= 1 && warnings.length <= 3, `${warnings.length} warnings`);
    assert.equal(warnings.reduce((sum, line) => sum + (line.dropped as number), 0) + kept.length, ids.length, 'the warnings count every dropped record');
  });
});

describe('bounded buffers: rejection lists, User-Agent, admin upserts, read pages', () => {
  let db: Db;
  let daemon: InProcessDaemon;
  let tenant: { id: number; token: string };
  const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };

  useDaemon({ seed: async (db) => void (tenant = await newTenant(db, 'buffers')) }, (parts) => ({ db, daemon } = parts));

  it('10,000 invalid events with an 8 KB User-Agent: the answer and the delivery record list the first 100 reasons and count them all; the agent is kept to 500 characters', async () => {
    const agent = 'agent/'.repeat(1400);
    const planhat = await post(`${daemon.baseUrl}/analytics/bulk/${tenant.token}`, Array.from({ length: 10000 }, () => ({ externalId: 'no-action' })), { 'user-agent': agent });
    assert.equal(planhat.status, 400);
    assert.equal(planhat.body.rejected.length, 100);
    assert.equal(planhat.body.rejectedCount, 10000);
    assert.deepEqual(planhat.body.rejected[99], { index: 99, error: 'action: missing: must be a non-empty string' });
    assert.ok(planhat.text.length < 10000, `the answer is ${planhat.text.length} bytes`);

    const amplitude = await post(`${daemon.baseUrl}/2/httpapi`, { api_key: tenant.token, events: Array.from({ length: 10000 }, () => ({ user_id: 'no-type' })) }, { 'user-agent': agent });
    assert.equal(amplitude.status, 400);
    assert.equal(amplitude.body.rejected.length, 100);
    assert.equal(amplitude.body.rejectedCount, 10000);
    // Amplitude's SDKs drop the events named here, so every index stays.
    assert.equal(amplitude.body.events_with_missing_fields.event_type.length, 10000);

    const logged = await waitFor('both refusals in the delivery log', async () => {
      const page = await request(`${daemon.baseUrl}/api/v1/tenants/${tenant.id}/deliveries?status=400`, { headers: admin });
      return page.body.data.length === 2 && page.body.data;
    });
    for (const delivery of logged) {
      assert.equal(delivery.rejectedCount, 10000);
      assert.equal(delivery.rejected.length, 100);
      assert.equal(delivery.userAgent, agent.slice(0, 500));
    }
  });

  it('an admin upsert of more than 10,000 entries is refused whole with 413 naming the limit; 10,000 are read', async () => {
    for (const kind of ['companies', 'assets', 'projects']) {
      const over = await request(`${daemon.baseUrl}/api/v1/tenants/${tenant.id}/${kind}`, { raw: JSON.stringify(Array(10001).fill({})), headers: admin });
      assert.equal(over.status, 413, over.text.slice(0, 200));
      assert.equal(over.body.error, `body holds 10001 ${kind}, over the limit of 10000 per request; send them in smaller batches`);
    }
    // At the limit the entries are read (and here refused one by one: each lacks its externalId).
    const atLimit = await request(`${daemon.baseUrl}/api/v1/tenants/${tenant.id}/companies`, { raw: JSON.stringify(Array(10000).fill({})), headers: admin });
    assert.equal(atLimit.status, 400);
    assert.equal(atLimit.body.rejected.length, 10000);
  });

  it('an admin body over 8 MiB is refused with 413 naming the admin API\'s own limit, not MAX_BODY_BYTES', async () => {
    const over = await request(`${daemon.baseUrl}/api/v1/tenants/${tenant.id}/companies`, { raw: `[${'"x",'.repeat(2200000)}"x"]`, headers: admin });
    assert.equal(over.status, 413, over.text.slice(0, 200));
    assert.match(over.body.error, /over the 8388608-byte limit \(the admin API's 8 MiB body limit\)/);
  });

  it('a page of large rows stops at PAGE_MAX_BYTES and gives its cursor; following it lists every row once, never a 500', async () => {
    const pad = 'x'.repeat(900 * 1024);
    const events = Array.from({ length: 12 }, (_, i) => ({ externalId: 'large-info', action: 'large', insertId: `large-${i}`, info: { pad } }));
    assert.equal((await post(`${daemon.baseUrl}/analytics/bulk/${tenant.token}`, events)).status, 202);
    const path = `/api/v1/tenants/${tenant.id}/activities?action=large&limit=1000`;
    await waitFor('the 12 large activities stored', async () => (await countRows(db, 'activities', { tenant_id: tenant.id, action: 'large' })) === 12);
    const first = await request(`${daemon.baseUrl}${path}`, { headers: admin });
    assert.equal(first.status, 200);
    // 8 MiB of rows of about 0.9 MiB: the page ends with the tenth.
    assert.equal(first.body.data.length, 10);
    assert.ok(first.text.length < PAGE_MAX_BYTES + 1024 * 1024, `the page is ${first.text.length} bytes`);
    assert.ok(first.body.nextCursor, 'a cursor to the rest');
    const rest = await request(`${daemon.baseUrl}${path}&cursor=${first.body.nextCursor}`, { headers: admin });
    assert.equal(rest.status, 200);
    assert.equal(rest.body.nextCursor, null);
    const ids = [...first.body.data, ...rest.body.data].map((row: { insertId: string }) => row.insertId).sort();
    assert.deepEqual(ids, events.map((event) => event.insertId).sort());
  });
});
