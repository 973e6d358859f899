import assert from 'node:assert/strict';
import { createTestEnv, openMigrated, waitFor, countRows, TestEnv } from './support/testEnv';
import { startInProcess, newTenant } from './support/daemon';
import { post } from './support/http';
import { missingRedisTools, RedisServers, startRedisCluster, startRedisSentinel } from './support/redisServers';

/** Receiver and worker against a real Redis topology: events posted are stored. */
async function ingestThrough(redisUrl: string): Promise<void> {
  const env: TestEnv = createTestEnv({ REDIS_URL: redisUrl });
  const db = await openMigrated(env.config);
  const tenant = await newTenant(db);
  const daemon = await startInProcess(env.config, db);
  try {
    const single = await post(`${daemon.baseUrl}/analytics/${tenant.token}`, { externalId: 'u-1', action: 'one' });
    assert.equal(single.status, 202, single.text);
    const bulk = await post(`${daemon.baseUrl}/analytics/bulk/${tenant.token}`, Array.from({ length: 1200 }, (_, i) => ({ externalId: `u-${i % 50}`, action: 'many' })));
    assert.equal(bulk.status, 202, bulk.text);
    // A refused request leaves a delivery-log record through the outbox list, another hash-tagged key.
    assert.equal((await post(`${daemon.baseUrl}/analytics/${tenant.token}`, { action: 'no person' })).status, 400);
    await waitFor('1201 activities', async () => (await countRows(db, 'activities', { tenant_id: tenant.id })) === 1201, 20000);
    await waitFor('the refusal in the delivery log', async () => (await countRows(db, 'deliveries', { tenant_id: tenant.id, status: 400 })) === 1, 10000);
  } finally {
    await daemon.stop();
    await db.destroy();
    // The env's cleanup scans one Redis; these servers are thrown away whole.
    await env.cleanup().catch(() => undefined);
  }
}

describe('Redis topologies: a real 3-node Redis Cluster and a real Sentinel', function () {
  this.timeout(30000);
  let servers: RedisServers | undefined;
  const missing = missingRedisTools();

  afterEach(async () => {
    await servers?.stop();
    servers = undefined;
  });

  it('redis-cluster://: the receiver enqueues and the worker stores, with every key on one slot', async function () {
    if (missing) {
      if (this.test) this.test.title += ` [skipped: ${missing}]`;
      return this.skip();
    }
    servers = await startRedisCluster();
    await ingestThrough(`redis-cluster://${servers.ports.slice(0, 2).map((port) => `127.0.0.1:${port}`).join(',')}`);
  });

  it('redis-sentinel://: the master is found through the Sentinel', async function () {
    if (missing) {
      if (this.test) this.test.title += ` [skipped: ${missing}]`;
      return this.skip();
    }
    servers = await startRedisSentinel();
    await ingestThrough(`redis-sentinel://127.0.0.1:${servers.ports[1]}/mymaster`);
  });
});
