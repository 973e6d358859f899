/** JOB_ENCRYPTION_KEY: what Redis holds of people (job events, delivery records) is sealed; the worker opens it; plain jobs still read. */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import IORedis from 'ioredis';
import { createTestEnv, openMigrated, waitFor, countRows, TestEnv } from './support/testEnv';
import { startInProcess, newTenant, spawnActivityd, ensureStopped, ChildDaemon, InProcessDaemon } from './support/daemon';
import { post } from './support/http';
import { Db } from '../src/store/db';
import { readInfo } from '../src/store/activityInfo';
import { openJob, sealJob } from '../src/queue/jobCipher';
import type { SealedJob } from '../src/queue/ingestQueue';

const CONSUMING = /worker consuming the ingest queue/;

/** Every value under the run's prefix, whatever its type, as one string. */
async function everythingInRedis(url: string, prefix: string): Promise<string> {
  const redis = new IORedis(url, { maxRetriesPerRequest: 1 });
  try {
    const parts: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `{${prefix}}:*`, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) {
        const type = await redis.type(key);
        if (type === 'hash') parts.push(key, ...Object.values(await redis.hgetall(key)));
        else if (type === 'list') parts.push(key, ...(await redis.lrange(key, 0, -1)));
        else if (type === 'string') parts.push(key, (await redis.get(key)) ?? '');
        else if (type === 'zset') parts.push(key, ...(await redis.zrange(key, '0', '-1')));
        else if (type === 'set') parts.push(key, ...(await redis.smembers(key)));
        else if (type === 'stream') parts.push(key, JSON.stringify(await redis.xrange(key, '-', '+')));
      }
    } while (cursor !== '0');
    return parts.join('\n');
  } finally {
    redis.disconnect();
  }
}

describe('job encryption at rest in Redis (JOB_ENCRYPTION_KEY)', function () {
  this.timeout(60000);
  const key = crypto.randomBytes(32).toString('base64');
  let env: TestEnv;
  let db: Db;
  let sealing: InProcessDaemon;
  let plain: InProcessDaemon;
  let tenant: { id: number; token: string };
  const children: ChildDaemon[] = [];

  before(async () => {
    env = createTestEnv({ JOB_ATTEMPTS: '2' });
    db = await openMigrated(env.config);
    tenant = await newTenant(db);
    sealing = await startInProcess(env.configWith({ JOB_ENCRYPTION_KEY: key }), db, { worker: false });
    plain = await startInProcess(env.config, db, { worker: false });
  });
  after(async () => {
    await Promise.all(children.map(ensureStopped));
    await sealing.stop();
    await plain.stop();
    await db.destroy();
    await env.cleanup();
  });

  it('a sealed job, of either shape, opens only with its key, unaltered, as a job of its own tenant', () => {
    const keyBytes = Buffer.from(key, 'base64');
    const job = { tenantId: 7, receivedAt: 1, events: [], delivery: { id: 'd', indexes: [] } };
    const sealed = sealJob(keyBytes, job) as SealedJob;
    assert.deepEqual(openJob(keyBytes, sealed), job);
    const gathered = { tenantId: 7, receivedAt: 1, parts: [{ receivedAt: 1, events: [], delivery: { id: 'a', indexes: [] } }, { receivedAt: 2, events: [], delivery: { id: 'b', indexes: [] } }] };
    const sealedGathered = sealJob(keyBytes, gathered) as SealedJob;
    assert.doesNotMatch(JSON.stringify(sealedGathered), /"parts"/, 'the requests a job gathers are sealed too');
    assert.deepEqual(openJob(keyBytes, sealedGathered), gathered);
    assert.throws(() => openJob(crypto.randomBytes(32), sealed), /does not open/);
    assert.throws(() => openJob(undefined, sealed), /JOB_ENCRYPTION_KEY is not set/);
    assert.throws(() => openJob(keyBytes, { ...sealed, tenantId: 8 }), /does not open/, 'moved to another tenant');
    const body = Buffer.from(sealed.sealed.slice('aes256gcm:'.length), 'base64');
    body[body.length - 1] ^= 1;
    assert.throws(() => openJob(keyBytes, { ...sealed, sealed: 'aes256gcm:' + body.toString('base64') }), /does not open/, 'altered');
  });

  it('refuses a key that is not base64 of 32 bytes, without echoing it', async () => {
    const child = spawnActivityd(['worker'], { ...env.env, JOB_ENCRYPTION_KEY: 'not-a-real-key-value' });
    assert.equal(await child.exited, 2);
    assert.match(child.output(), /JOB_ENCRYPTION_KEY must be base64 of exactly 32 bytes/);
    assert.doesNotMatch(child.output(), /not-a-real-key-value/);
  });

  it('Redis holds no email, name or info of a queued job, nor of a rejection in its delivery record or a refused request; the worker stores them as sent', async () => {
    const url = `${sealing.baseUrl}/analytics/${tenant.token}`;
    await waitFor('tenant known', async () => (await post(url, { externalId: 'warmup', action: 'x', insertId: 'warm' })).status === 202, 5000);
    const reply = await post(url, [
      { externalId: 'p-1', email: 'hidden.person@private.example', name: 'Hidden Person', action: 'secret', info: { note: 'plaintext-marker-1' }, insertId: 'enc-1' },
      { externalId: 'p-2', email: 'second@private.example', action: 'secret', date: 'rejected-marker-2' },
    ]);
    assert.equal(reply.status, 202);
    assert.equal(reply.body.rejected.length, 1);
    assert.equal((await post(url, [{ externalId: 'p-3', action: 'secret', date: 'refused-marker-3' }])).status, 400);

    await waitFor('the refused request in Redis', async () => (await everythingInRedis(env.env.REDIS_URL, env.env.QUEUE_PREFIX)).includes(':deliveries'));
    const raw = await everythingInRedis(env.env.REDIS_URL, env.env.QUEUE_PREFIX);
    assert.match(raw, /"sealed":"aes256gcm:/, 'the job is there, sealed');
    for (const secret of ['hidden.person', 'private.example', 'Hidden Person', 'plaintext-marker-1', 'rejected-marker-2', 'refused-marker-3', 'secret']) {
      assert.equal(raw.includes(secret), false, `Redis holds "${secret}" in plaintext`);
    }

    const worker = spawnActivityd(['worker'], { ...env.env, JOB_ENCRYPTION_KEY: key, LOG_LEVEL: 'info' });
    children.push(worker);
    await worker.waitForOutput(CONSUMING);
    await waitFor('stored', async () => (await countRows(db, 'activities', { insert_id: 'enc-1' })) === 1);
    const activity = await db('activities').where({ insert_id: 'enc-1' }).first();
    assert.deepEqual(readInfo(activity), { note: 'plaintext-marker-1' });
    const person = await db('end_users').where({ tenant_id: tenant.id, external_id: 'p-1' }).first();
    assert.equal(person.email, 'hidden.person@private.example');
    assert.equal(person.name, 'Hidden Person');
    await waitFor('both requests in the delivery log', async () => (await db('deliveries').where({ tenant_id: tenant.id }).whereIn('status', [202, 400]).select('rejected')).length >= 3);
    const rejections = (await db('deliveries').where({ tenant_id: tenant.id }).select('rejected')).map((row: { rejected: string }) => row.rejected).join('\n');
    assert.match(rejections, /rejected-marker-2/);
    assert.match(rejections, /refused-marker-3/);
  });

  it('jobs queued before encryption was turned on are still read', async () => {
    assert.equal((await post(`${plain.baseUrl}/analytics/${tenant.token}`, { externalId: 'p-4', email: 'plain@private.example', action: 'plain', insertId: 'plain-1' })).status, 202);
    await waitFor('stored', async () => (await countRows(db, 'activities', { insert_id: 'plain-1' })) === 1);
  });

  it('a sealed job a worker cannot open (no key) fails at once, is listed as encrypted, and replays once the key is set', async () => {
    await Promise.all(children.splice(0).map(ensureStopped));
    const keyless = spawnActivityd(['worker'], { ...env.env, LOG_LEVEL: 'info' });
    children.push(keyless);
    await keyless.waitForOutput(CONSUMING);
    assert.equal((await post(`${sealing.baseUrl}/analytics/${tenant.token}`, { externalId: 'p-5', action: 'locked', insertId: 'sealed-1' })).status, 202);
    await keyless.waitForOutput(/JOB_ENCRYPTION_KEY is not set[\s\S]*job failed; kept for inspection/);
    const listed = spawnActivityd(['failed', 'list'], env.env);
    assert.equal(await listed.exited, 0);
    const [failed] = JSON.parse(listed.output());
    assert.equal(failed.encrypted, true);
    assert.equal(failed.events, null, 'without the key the list cannot count its events');
    assert.equal(failed.attemptsMade, 1, 'not retried: no retry opens it');
    await ensureStopped(keyless);

    const keyed = spawnActivityd(['worker'], { ...env.env, JOB_ENCRYPTION_KEY: key, LOG_LEVEL: 'info' });
    children.push(keyed);
    await keyed.waitForOutput(CONSUMING);
    const retried = spawnActivityd(['failed', 'retry', '--all'], { ...env.env, JOB_ENCRYPTION_KEY: key });
    assert.equal(await retried.exited, 0, retried.output());
    await waitFor('stored', async () => (await countRows(db, 'activities', { insert_id: 'sealed-1' })) === 1);
  });

  it('a refused request\'s delivery record that a worker cannot open (no key) is kept in Redis, not dropped, and written once a worker with the key runs', async () => {
    await Promise.all(children.splice(0).map(ensureStopped));
    const keyless = spawnActivityd(['worker'], { ...env.env, LOG_LEVEL: 'info' });
    children.push(keyless);
    await keyless.waitForOutput(CONSUMING);
    assert.equal((await post(`${sealing.baseUrl}/analytics/${tenant.token}`, [{ externalId: 'p-6', action: 'x', date: 'kept-marker-6' }])).status, 400);
    await keyless.waitForOutput(/delivery log records sealed with a JOB_ENCRYPTION_KEY this worker does not have/);
    const recorded = async () => (await db('deliveries').where({ tenant_id: tenant.id }).select('rejected')).some((row: { rejected: string }) => row.rejected.includes('kept-marker-6'));
    assert.equal(await recorded(), false);
    await ensureStopped(keyless);
    assert.match(await everythingInRedis(env.env.REDIS_URL, env.env.QUEUE_PREFIX), /:deliveries:unopened\naes256gcm:/, 'kept in Redis, still sealed');

    const keyed = spawnActivityd(['worker'], { ...env.env, JOB_ENCRYPTION_KEY: key, LOG_LEVEL: 'info' });
    children.push(keyed);
    await waitFor('the refused request in the delivery log', recorded);
  });
});
