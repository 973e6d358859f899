/**
 * Many requests share one queue job: the gatherer on its own, then concurrent requests through a real receiver (the
 * jobs counted in Redis before a worker runs), and a job of the single-request shape left in Redis at an upgrade.
 */
import assert from 'node:assert/strict';
import IORedis from 'ioredis';
import { Queue, Worker } from 'bullmq';
import { onlyOn, TEST_DATABASE_NAME, waitFor } from './support/testEnv';
import { useDaemon } from './support/fixtures';
import { newTenant } from './support/daemon';
import { post } from './support/http';
import { settledDeliveries, waitForQueueDrained } from './support/settled';
import { createJobGatherer } from '../src/queue/jobGatherer';
import { INGEST_QUEUE, JobPart, queuePrefix, StoredJob } from '../src/queue/ingestQueue';
import { startDaemon, RunningDaemon } from '../src/daemon/daemon';
import { createLogger } from '../src/log';
import { jobsFor, withdrawJobs } from '../src/queue/enqueue';
import { listFailed } from '../src/cli/queueOperations';

const part = (id: string, events: number): JobPart => ({
  receivedAt: 1,
  events: Array.from({ length: events }, (_, i) => ({ externalId: 'u', action: 'a', date: 1, count: 1, weight: 1, info: {}, insertId: `${id}-${i}` })),
  delivery: { id, indexes: Array.from({ length: events }, (_, i) => i) },
});

describe('job gatherer: requests that arrive while an enqueue is in flight share the next job', () => {
  it('sends a lone request at once, and gathers the rest per tenant within JOB_MAX_EVENTS and the byte bound', async () => {
    const sent: string[][] = [];
    const inFlight: Array<() => void> = [];
    const gatherer = createJobGatherer(
      (tenantId, parts) => {
        const job = sent.push(parts.map((p) => `${tenantId}:${p.delivery.id}`));
        return new Promise<string>((resolve) => inFlight.push(() => resolve(`job ${job}`)));
      },
      { maxEvents: 5, maxBytes: 1000, maxWaitMs: 60000 },
      'expired',
    );
    const first = gatherer.submit(1, part('a', 1), 10);
    assert.deepEqual(sent, [['1:a']], 'out at once, before any timer');
    const other = gatherer.submit(2, part('x', 1), 10);
    assert.deepEqual(sent[1], ['2:x'], 'another tenant does not wait for the first');
    const waiting = [gatherer.submit(1, part('b', 2), 10), gatherer.submit(1, part('c', 3), 10), gatherer.submit(1, part('d', 1), 990), gatherer.submit(1, part('e', 9), 10)];
    assert.equal(sent.length, 2, 'nothing more goes out while the first enqueue is in flight');
    inFlight.shift()?.();
    assert.equal(await first, 'job 1');
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(sent[2], ['1:b', '1:c'], 'b and c fill JOB_MAX_EVENTS; d would pass it');
    inFlight.shift()?.();
    assert.equal(await other, 'job 2');
    inFlight.shift()?.();
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(sent[3], ['1:d'], 'e would pass the byte bound');
    inFlight.shift()?.();
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(sent[4], ['1:e'], 'a request larger than JOB_MAX_EVENTS goes alone');
    inFlight.shift()?.();
    assert.deepEqual(await Promise.all(waiting), ['job 3', 'job 3', 'job 4', 'job 5']);
  });

  it('a request that waited longer than one enqueue can take behind a slow one is settled as expired, never sent', async () => {
    const sent: string[] = [];
    let finish: () => void = () => undefined;
    const gatherer = createJobGatherer(
      (_tenantId, parts) => {
        sent.push(...parts.map((p) => p.delivery.id));
        return new Promise<string>((resolve) => (finish = () => resolve('queued')));
      },
      { maxEvents: 100, maxBytes: 1000, maxWaitMs: 50 },
      'expired',
    );
    const first = gatherer.submit(1, part('slow', 1), 1);
    const late = gatherer.submit(1, part('late', 1), 1);
    await new Promise((resolve) => setTimeout(resolve, 80));
    const fresh = gatherer.submit(1, part('fresh', 1), 1);
    finish();
    assert.equal(await first, 'queued');
    assert.equal(await late, 'expired');
    await new Promise((resolve) => setImmediate(resolve));
    finish();
    assert.equal(await fresh, 'queued');
    assert.deepEqual(sent, ['slow', 'fresh']);
  });

  it('a failed enqueue fails every request it carried, and the next ones still go out', async () => {
    let calls = 0;
    const gatherer = createJobGatherer(async (_tenantId, parts) => {
      calls += 1;
      await new Promise((resolve) => setImmediate(resolve));
      if (parts.some((p) => p.delivery.id === 'bad')) throw new Error('refused');
      return parts.length;
    }, { maxEvents: 100, maxBytes: 1000, maxWaitMs: 60000 }, -1);
    const results = await Promise.allSettled([gatherer.submit(1, part('first', 1), 1), gatherer.submit(1, part('bad', 1), 1), gatherer.submit(1, part('with-bad', 1), 1)]);
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'rejected']);
    assert.equal(await gatherer.submit(1, part('after', 1), 1), 1);
    assert.equal(calls, 3);
  });
});

describe(`job gathering through the receiver (real Redis, real ${TEST_DATABASE_NAME})`, function () {
  this.timeout(120000);
  let parts: Parameters<Parameters<typeof useDaemon>[1]>[0];
  useDaemon({ worker: false, perTest: true }, (received) => (parts = received));

  let worker: RunningDaemon | undefined;
  afterEach(async () => {
    await worker?.stop(5000);
    worker = undefined;
  });
  const startWorker = async () => (worker = await startDaemon(parts.env.config, parts.db, createLogger(parts.env.config, 'test-worker'), 'worker'));
  const openQueue = () => {
    const connection = new IORedis(parts.env.env.REDIS_URL, { maxRetriesPerRequest: 1 });
    return { connection, queue: new Queue<StoredJob>(INGEST_QUEUE, { connection, prefix: queuePrefix(parts.env.config) }) };
  };

  it('concurrent single-event requests share jobs (fewer jobs than requests) and every event answered 202 is stored once, one delivery record per request', async () => {
    const tenant = await newTenant(parts.db);
    const url = `${parts.daemon.baseUrl}/analytics/${tenant.token}`;
    const requests = 400;
    let next = 0;
    const lane = async () => {
      for (let i = next++; i < requests; i = next++) {
        const reply = await post(url, { externalId: `user-${i % 7}`, action: 'gathered', insertId: `g-${i}` });
        assert.equal(reply.status, 202, reply.text);
      }
    };
    await Promise.all(Array.from({ length: 40 }, lane));
    const { connection, queue } = openQueue();
    try {
      const jobs = await queue.getWaiting(0, -1);
      const deliveries = jobs.flatMap((job) => (job.data as { parts: JobPart[] }).parts.map((p) => p.delivery.id));
      assert.equal(deliveries.length, requests, 'each request is one part of one job');
      assert.equal(new Set(deliveries).size, requests);
      assert.ok(jobs.length < requests, `${jobs.length} jobs for ${requests} requests`);
      process.stdout.write(`      (${requests} requests in ${jobs.length} jobs)\n`);
    } finally {
      await queue.close();
      connection.disconnect();
    }
    await startWorker();
    await waitForQueueDrained(parts.env, 60000);
    const rows = (await parts.db('activities').where({ tenant_id: tenant.id }).select('insert_id')).map((row: { insert_id: string }) => row.insert_id);
    assert.equal(rows.length, requests);
    assert.equal(new Set(rows).size, requests);
    const settled = await settledDeliveries(parts.daemon.baseUrl, tenant.id, 100, 60000).catch(() => undefined);
    // The delivery API pages by 100: the newest 100 requests settled, each with its one stored event.
    assert.ok(settled, 'the newest 100 delivery records settled');
    assert.ok(settled.every((delivery) => delivery.status === 202 && delivery.accepted === 1 && delivery.outcomes.stored === 1));
  });

  it('a job of the single-request shape left in Redis at an upgrade is read and stored, with its delivery record', async () => {
    const tenant = await newTenant(parts.db);
    const { connection, queue } = openQueue();
    const deliveryId = '01890000-0000-7000-8000-000000000001';
    try {
      await queue.add('events', {
        tenantId: tenant.id,
        receivedAt: Date.now(),
        events: [{ externalId: 'old', action: 'old-shape', date: Date.now(), count: 1, weight: 1, info: {}, insertId: 'old-shape-1' }],
        delivery: {
          id: deliveryId,
          indexes: [0],
          record: { id: deliveryId, tenantId: tenant.id, receivedAt: Date.now(), endpoint: 'analytics', userAgent: null, status: 202, accepted: 1, rejected: [] },
        },
      });
    } finally {
      await queue.close();
      connection.disconnect();
    }
    await startWorker();
    await waitForQueueDrained(parts.env, 60000);
    const rows = await parts.db('activities').where({ tenant_id: tenant.id }).select('insert_id', 'delivery_id');
    assert.deepEqual(rows, [{ insert_id: 'old-shape-1', delivery_id: deliveryId }]);
    const [delivery] = await settledDeliveries(parts.daemon.baseUrl, tenant.id, 1);
    assert.equal(delivery.id, deliveryId);
    assert.equal(delivery.outcomes.stored, 1);
  });

  it('a withdrawal wins only over a job no worker has started: a waiting job, or one never acknowledged that arrives later, is withdrawn and stores nothing; a taken or finished one is not withdrawn', async () => {
    const tenant = await newTenant(parts.db);
    const prefix = queuePrefix(parts.env.config);
    const { connection, queue } = openQueue();
    const event = (insertId: string) => ({ externalId: 'w', action: 'withdrawal', date: Date.now(), count: 1, weight: 1, info: {}, insertId });
    const job = (id: string) => jobsFor(tenant.id, [{ receivedAt: Date.now(), events: [event(id)], delivery: { id, indexes: [0] } }], { jobMaxEvents: 500 })[0];
    try {
      // Taken: a worker holds it (BullMQ set its lock and attempt count when it moved it to active).
      const taken = job('01890000-0000-7000-8000-0000000000a1');
      await queue.add(taken.name, taken.data, taken.opts);
      let release: () => void = () => undefined;
      const held = new Promise<void>((resolve) => (release = resolve));
      let started: () => void = () => undefined;
      const running = new Promise<void>((resolve) => (started = resolve));
      const holderConnection = new IORedis(parts.env.env.REDIS_URL, { maxRetriesPerRequest: null });
      const holder = new Worker(INGEST_QUEUE, async () => { started(); await held; }, { connection: holderConnection, prefix });
      await running;
      assert.equal(await withdrawJobs(connection, prefix, [taken.opts.jobId]), 'taken');
      assert.equal(await connection.exists(`${prefix}:${INGEST_QUEUE}:withdrawn:${taken.opts.jobId}`), 0);
      release();
      await holder.close();
      holderConnection.disconnect();
      // Gone: completed jobs are removed, so a job Redis no longer has was stored.
      assert.equal(await withdrawJobs(connection, prefix, [taken.opts.jobId]), 'taken');
      // Waiting: withdrawn, and the ingest worker completes it storing nothing.
      const waiting = job('01890000-0000-7000-8000-0000000000a2');
      await queue.add(waiting.name, waiting.data, waiting.opts);
      assert.equal(await withdrawJobs(connection, prefix, [waiting.opts.jobId]), 'withdrawn');
      // Not there yet, and never acknowledged (an add that ioredis resends once its broken connection is back): withdrawn ahead of its arrival.
      const resent = job('01890000-0000-7000-8000-0000000000a3');
      assert.equal(await withdrawJobs(connection, prefix, [resent.opts.jobId], true), 'withdrawn');
      await queue.add(resent.name, resent.data, resent.opts);
    } finally {
      await queue.close();
      connection.disconnect();
    }
    await startWorker();
    await waitForQueueDrained(parts.env, 60000);
    assert.equal((await parts.db('activities').where({ tenant_id: tenant.id })).length, 0, 'the withdrawn job stored nothing');
  });

  it('a failed gathered job names the request (delivery) and event that is wrong, and failed list shows each delivery it carries', async () => {
    const tenant = await newTenant(parts.db);
    const { connection, queue } = openQueue();
    try {
      const good = part('01890000-0000-7000-8000-0000000000b1', 2);
      const bad = part('01890000-0000-7000-8000-0000000000b2', 2);
      (bad.events[1] as { action: string }).action = '';
      await queue.add('events', { tenantId: tenant.id, receivedAt: 1, parts: [good, bad] });
      await startWorker();
      const [failed] = await waitFor('the job failed', async () => {
        const mine = (await listFailed(queue, 10)).filter((job) => job.tenantId === tenant.id);
        return mine.length > 0 && mine;
      }, 30000);
      assert.match(failed.reason as string, /parts\[1\] \(delivery 01890000-0000-7000-8000-0000000000b2\)\.events\[1\]\.action: not a non-empty string/);
      assert.deepEqual(failed.deliveries, [{ id: good.delivery.id, events: 2 }, { id: bad.delivery.id, events: 2 }]);
      assert.equal(failed.events, 4);
      assert.equal(failed.deliveryId, null, 'several deliveries: no single one');
    } finally {
      await queue.close();
      connection.disconnect();
    }
  });

  it('a gathered job one of whose requests fails for good stores the others, and its failure names that request (delivery)', async function () {
    onlyOn(this, 'postgres', 'SQLite takes an action longer than its column, PostgreSQL refuses it for good');
    const tenant = await newTenant(parts.db);
    const { connection, queue } = openQueue();
    try {
      const good = part('01890000-0000-7000-8000-0000000000c1', 2);
      const bad = part('01890000-0000-7000-8000-0000000000c2', 1);
      for (const event of [...good.events, ...bad.events]) (event as { insertId: string }).insertId += '-permanent';
      (bad.events[0] as { action: string }).action = 'x'.repeat(300);
      await queue.add('events', { tenantId: tenant.id, receivedAt: 1, parts: [good, bad] }, { attempts: 1 });
      await startWorker();
      const [failed] = await waitFor('the job failed', async () => {
        const mine = (await listFailed(queue, 10)).filter((job) => job.tenantId === tenant.id);
        return mine.length > 0 && mine;
      }, 30000);
      assert.match(failed.reason as string, /^permanent failure: delivery 01890000-0000-7000-8000-0000000000c2: /);
      assert.doesNotMatch(failed.reason as string, /c1/);
      const rows = await parts.db('activities').where({ tenant_id: tenant.id }).orderBy('insert_id').pluck('insert_id');
      assert.deepEqual(rows, good.events.map((event) => event.insertId), 'the other request of the job is stored');
    } finally {
      await queue.close();
      connection.disconnect();
    }
  });
});
