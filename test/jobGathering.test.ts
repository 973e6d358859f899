/**
 * Many requests share one queue job: the gatherer on its own, then concurrent requests through a real receiver (the
 * jobs counted in Redis before a worker runs), and a job of the single-request shape left in Redis at an upgrade.
 */
import assert from 'node:assert/strict';
import IORedis from 'ioredis';
import { Queue } from 'bullmq';
import { onlyOn, TEST_DATABASE_NAME, waitFor } from './support/testEnv';
import { useDaemon } from './support/fixtures';
import { newTenant } from './support/daemon';
import { post } from './support/http';
import { settledDeliveries, waitForQueueDrained } from './support/settled';
import { createJobGatherer } from '../src/queue/jobGatherer';
import { INGEST_QUEUE, JobPart, queuePrefix, StoredJob } from '../src/queue/ingestQueue';
import { startDaemon, RunningDaemon } from '../src/daemon/daemon';
import { createLogger } from '../src/log';
import { jobsFor } from '../src/queue/enqueue';
import { confirmJobs, decisionWindowMs, withdrawJobs, withdrawnKey } from '../src/queue/receiverDecision';
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

  const undecidedJob = (tenantId: number, insertId: string, deliveryId: string) =>
    jobsFor(tenantId, [{ receivedAt: Date.now(), events: [{ externalId: 'w', action: 'decision', date: Date.now(), count: 1, weight: 1, info: {}, insertId }], delivery: { id: deliveryId, indexes: [0] } }], { jobMaxEvents: 500 })[0];
  /** Taken by the worker and put back at least once: it found no decision. */
  const putBack = async (queue: Queue<StoredJob>, jobId: string) => ((await queue.getJob(jobId))?.attemptsStarted ?? 0) >= 2;
  const storedIds = async (tenantId: number) => (await parts.db('activities').where({ tenant_id: tenantId }).pluck('insert_id')) as string[];

  it('a withdrawal holds whatever the job is doing: a waiting job, one a worker took and waits on, or one never acknowledged that arrives later stores nothing', async () => {
    const tenant = await newTenant(parts.db);
    const prefix = queuePrefix(parts.env.config);
    const { connection, queue } = openQueue();
    try {
      const waiting = undecidedJob(tenant.id, 'withdrawn-waiting', '01890000-0000-7000-8000-0000000000a1');
      await queue.add(waiting.name, waiting.data, waiting.opts);
      await withdrawJobs(connection, prefix, [waiting.opts.jobId]);
      // Not there yet, and never acknowledged (an add that ioredis resends once its broken connection is back): withdrawn ahead of its arrival.
      const resent = undecidedJob(tenant.id, 'withdrawn-resent', '01890000-0000-7000-8000-0000000000a2');
      await withdrawJobs(connection, prefix, [resent.opts.jobId]);
      await queue.add(resent.name, resent.data, resent.opts);
      // Taken by a worker, which waits for the receiver's decision.
      const held = undecidedJob(tenant.id, 'withdrawn-held', '01890000-0000-7000-8000-0000000000a3');
      await queue.add(held.name, held.data, held.opts);
      await startWorker();
      await waitFor('the worker waits on the undecided job', () => putBack(queue, held.opts.jobId), 30000, 20);
      await withdrawJobs(connection, prefix, [held.opts.jobId]);
      await waitForQueueDrained(parts.env, 60000);
      assert.deepEqual(await storedIds(tenant.id), [], 'the withdrawn jobs stored nothing');
      assert.deepEqual(await connection.keys(withdrawnKey(prefix, '*')), [], 'the worker removed the withdrawals it used');
    } finally {
      await queue.close();
      connection.disconnect();
    }
  });

  it('a job its receiver has not decided on waits in the queue and is stored once the receiver confirms it', async () => {
    const tenant = await newTenant(parts.db);
    const prefix = queuePrefix(parts.env.config);
    const { connection, queue } = openQueue();
    try {
      const job = undecidedJob(tenant.id, 'confirmed-late', '01890000-0000-7000-8000-0000000000a4');
      // Made now as far as the worker knows for an hour, so only the confirmation can let it be stored.
      await queue.add(job.name, job.data, { ...job.opts, timestamp: Date.now() + 3600000 });
      await startWorker();
      await waitFor('the worker waits on the undecided job', () => putBack(queue, job.opts.jobId), 30000, 20);
      assert.deepEqual(await storedIds(tenant.id), [], 'nothing stored before the decision');
      confirmJobs(connection, prefix, [job.opts.jobId], parts.env.config.ENQUEUE_TIMEOUT_MS);
      await waitFor('stored once confirmed', async () => (await storedIds(tenant.id)).length > 0, 30000);
      await waitForQueueDrained(parts.env, 60000);
      assert.deepEqual(await storedIds(tenant.id), ['confirmed-late']);
      assert.deepEqual(await connection.keys(`${prefix}:${INGEST_QUEUE}:confirmed:*`), [], 'the worker removed the confirmation it used');
    } finally {
      await queue.close();
      connection.disconnect();
    }
  });

  it('a job whose receiver never decided (it died before answering) is stored once the decision window is over, not before', async () => {
    const tenant = await newTenant(parts.db);
    const { connection, queue } = openQueue();
    try {
      const job = undecidedJob(tenant.id, 'never-decided', '01890000-0000-7000-8000-0000000000a5');
      // Its window ends 4 s from now.
      const deadline = Date.now() + 4000;
      await queue.add(job.name, job.data, { ...job.opts, timestamp: deadline - decisionWindowMs(parts.env.config.ENQUEUE_TIMEOUT_MS) });
      await startWorker();
      await waitFor('the worker waits on the undecided job', () => putBack(queue, job.opts.jobId), 30000, 20);
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, deadline - 500 - Date.now())));
      assert.deepEqual(await storedIds(tenant.id), [], 'nothing stored within the window');
      await waitForQueueDrained(parts.env, 60000);
      assert.deepEqual(await storedIds(tenant.id), ['never-decided']);
    } finally {
      await queue.close();
      connection.disconnect();
    }
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
      // Made long ago: no receiver decision to wait for.
      await queue.add('events', { tenantId: tenant.id, receivedAt: 1, parts: [good, bad] }, { attempts: 1, timestamp: 1 });
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
