/**
 * The database unavailable to the worker (SQLite: the file locked by another process; PostgreSQL: connection
 * refused, through a TCP proxy the test closes and reopens): jobs retry with backoff and complete when it returns;
 * after their JOB_ATTEMPTS they are failed, listed, and replayed once it is back.
 */
import assert from 'node:assert/strict';
import sqlite3 from 'sqlite3';
import { createTestEnv, openMigrated, waitFor, countRows, TestEnv, TEST_DATABASE } from '../support/testEnv';
import { waitForQueueDrained } from '../support/settled';
import { startInProcess, newTenant, spawnActivityd, ensureStopped, ChildDaemon, InProcessDaemon } from '../support/daemon';
import { post } from '../support/http';
import { startTcpProxy } from '../support/net';
import { Db } from '../../src/store/db';

const CONSUMING = /worker consuming the ingest queue/;

interface Outage {
  /** What the worker process needs to be cut off by begin(). */
  workerEnv: Record<string, string>;
  begin(): Promise<void>;
  end(): Promise<void>;
}

/** SQLite: another process holds the write lock (BEGIN EXCLUSIVE, as a backup or a stuck writer would). */
function sqliteLock(filename: string): Outage {
  let locker: sqlite3.Database | undefined;
  const run = (sql: string) => new Promise<void>((resolve, reject) => (locker as sqlite3.Database).run(sql, (error) => (error ? reject(error) : resolve())));
  return {
    workerEnv: { DB_BUSY_TIMEOUT_MS: '100' },
    async begin() {
      locker = new sqlite3.Database(filename);
      await run('BEGIN EXCLUSIVE');
      await run('UPDATE write_lock SET generation = generation + 1');
    },
    async end() {
      await run('COMMIT');
      await new Promise<void>((resolve) => (locker as sqlite3.Database).close(() => resolve()));
    },
  };
}

/** PostgreSQL: the worker reaches the server through a proxy; closed, connecting is refused and open connections are cut. */
async function postgresRefused(databaseUrl: string): Promise<Outage & { stop(): Promise<void> }> {
  const url = new URL(databaseUrl);
  const proxy = await startTcpProxy(url.hostname, Number(url.port || 5432));
  url.hostname = '127.0.0.1';
  url.port = String(proxy.port);
  return { workerEnv: { DATABASE_URL: url.toString() }, begin: proxy.close, end: proxy.open, stop: proxy.close };
}

const OUTAGE = TEST_DATABASE === 'sqlite' ? 'SQLite file locked by another process' : 'PostgreSQL connection refused';

describe(`faults: database unavailable (${OUTAGE})`, function () {
  this.timeout(120000);
  let env: TestEnv;
  let db: Db;
  let patient: InProcessDaemon;
  let impatient: InProcessDaemon;
  let outage: Outage & { stop?(): Promise<void> };
  let worker: ChildDaemon;
  let tenant: { id: number; token: string };

  before(async () => {
    env = createTestEnv({ JOB_BACKOFF_MS: '200' });
    db = await openMigrated(env.config);
    tenant = await newTenant(db);
    // Attempts are set when a job is queued: one receiver queues jobs that outlast the outage, one jobs that do not.
    patient = await startInProcess(env.configWith({ JOB_ATTEMPTS: '30' }), db, { worker: false });
    impatient = await startInProcess(env.configWith({ JOB_ATTEMPTS: '3' }), db, { worker: false });
    const target = env.config.DATABASE_URL;
    outage = target.client === 'sqlite' ? sqliteLock(target.filename) : await postgresRefused(env.env.DATABASE_URL);
    worker = spawnActivityd(['worker'], { ...env.env, ...outage.workerEnv, LOG_LEVEL: 'info' });
    await worker.waitForOutput(CONSUMING);
  });
  after(async () => {
    await ensureStopped(worker);
    await outage.stop?.();
    await patient.stop();
    await impatient.stop();
    await db.destroy();
    await env.cleanup();
  });

  const events = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => ({ externalId: `user-${i % 7}`, email: `user${i % 7}@down.example`, action: 'down', insertId: `${prefix}-${i}` }));
  const storedIds = async (prefix: string) => (await db('activities').where({ tenant_id: tenant.id }).where('insert_id', 'like', `${prefix}-%`).select('insert_id')).map((row: { insert_id: string }) => row.insert_id);

  it('jobs retry with growing delays while it is down, and complete, each event once, when it returns', async () => {
    const url = `${patient.baseUrl}/analytics/${tenant.token}`;
    await waitFor('tenant known', async () => (await post(url, events('warm', 1))).status === 202, 5000);
    await waitFor('warmup stored', async () => (await storedIds('warm')).length === 1);
    await outage.begin();
    try {
      for (const batch of ['wait-a', 'wait-b', 'wait-c']) assert.equal((await post(url, events(batch, 40))).status, 202);
      const [first, second, third, fourth] = (await waitFor('four tries of a job', async () => {
        const byJob = new Map<string, number[]>();
        for (const line of worker.output().split('\n').filter((text) => text.includes('"msg":"job will be retried"'))) {
          const { jobId: id, time } = JSON.parse(line) as { jobId: string; time: number };
          byJob.set(id, [...(byJob.get(id) ?? []), time]);
        }
        return [...byJob.values()].find((times) => times.length >= 4);
      }, 30000, 100)) as number[];
      // Exponential backoff: each wait between tries is longer than the one before.
      assert.ok(second - first < third - second && third - second < fourth - third, `growing delays: ${[second - first, third - second, fourth - third]} ms`);
      assert.equal((await storedIds('wait')).length, 0, 'nothing stored while the database is unavailable');
    } finally {
      await outage.end();
    }
    await waitFor('all 120 stored', async () => (await storedIds('wait')).length >= 120, 60000, 100);
    await waitForQueueDrained(env);
    const stored = await storedIds('wait');
    assert.equal(stored.length, 120);
    assert.equal(new Set(stored).size, 120);
    assert.doesNotMatch(worker.output(), /job failed; kept for inspection/);
  });

  it('after JOB_ATTEMPTS tries a job is failed, listed by `activityd failed list`, and replayed by `failed retry` once the database is back, each event once', async () => {
    const url = `${impatient.baseUrl}/analytics/${tenant.token}`;
    await outage.begin();
    try {
      assert.equal((await post(url, events('gave-up', 25))).status, 202);
      await worker.waitForOutput(/job failed; kept for inspection/, 30000);
    } finally {
      await outage.end();
    }
    const listed = spawnActivityd(['failed', 'list'], env.env);
    assert.equal(await listed.exited, 0, listed.output());
    const failed = JSON.parse(listed.output()) as Array<{ id: string; tenantId: number; events: number; attemptsMade: number; reason: string }>;
    assert.equal(failed.length, 1, listed.output());
    assert.equal(failed[0].events, 25);
    assert.equal(failed[0].attemptsMade, 3);
    assert.match(failed[0].reason, TEST_DATABASE === 'sqlite' ? /SQLITE_BUSY/ : /ECONNREFUSED|Connection terminated|connect/);
    assert.equal((await storedIds('gave-up')).length, 0);

    const retried = spawnActivityd(['failed', 'retry', '--all'], env.env);
    assert.equal(await retried.exited, 0, retried.output());
    await waitFor('the replayed events stored', async () => (await storedIds('gave-up')).length >= 25, 30000, 100);
    await waitForQueueDrained(env);
    assert.equal((await storedIds('gave-up')).length, 25);
    assert.equal(await countRows(db, 'activities', { tenant_id: tenant.id }), 1 + 120 + 25, 'every event once');
    assert.equal(worker.child.exitCode, null, 'the worker rode out both outages');
  });
});
