/** pm2 with ecosystem.config.js: a reload of the receivers under load and a stop of a busy worker lose nothing. */
import assert from 'node:assert/strict';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createTestEnv, openMigrated, waitFor, countRows, TestEnv, REPO_ROOT } from './support/testEnv';
import { waitForQueueDrained } from './support/settled';
import { newTenant } from './support/daemon';
import { postOnce } from './support/plainPost';
import { freePort } from './support/net';
import { Db } from '../src/store/db';

const run = promisify(execFile);
const PM2 = path.join(REPO_ROOT, 'node_modules/.bin/pm2');

describe('pm2: ecosystem.config.js', function () {
  this.timeout(180000);
  let env: TestEnv;
  let db: Db;
  let pm2Env: Record<string, string>;
  let tenant: { id: number; token: string };
  let port: number;
  const pm2 = (...args: string[]) => run(PM2, args, { cwd: REPO_ROOT, env: { ...process.env, ...pm2Env }, timeout: 120000 });

  before(async () => {
    env = createTestEnv();
    db = await openMigrated(env.config);
    tenant = await newTenant(db);
    port = await freePort();
    pm2Env = {
      ...env.env,
      PM2_HOME: path.join(env.dir, 'pm2'),
      PORT: String(port),
      LOG_LEVEL: 'info',
      RECEIVER_INSTANCES: '2',
      WORKER_INSTANCES: '1',
      SHUTDOWN_TIMEOUT_MS: '15000',
      WORKER_CONCURRENCY: '8',
      // Jobs of 50 events written one per transaction: the worker is still busy with the 30,000 events of the
      // "busy worker" test when `pm2 stop` reaches it, however fast it stores.
      JOB_MAX_EVENTS: '50',
      BATCH_MAX_EVENTS: '50',
    };
    await pm2('start', 'ecosystem.config.js');
    await waitFor('receivers answering', async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200, 30000, 200);
  });
  after(async () => {
    await pm2('kill').catch(() => undefined);
    await db.destroy();
    await env.cleanup();
  });

  it('runs two receivers in cluster mode and one worker in fork mode, all online', async () => {
    const { stdout } = await pm2('jlist');
    const apps = JSON.parse(stdout.slice(stdout.indexOf('['))) as Array<{ name: string; pm2_env: { status: string; exec_mode: string } }>;
    assert.deepEqual(apps.map((app) => [app.name, app.pm2_env.exec_mode, app.pm2_env.status]).sort(), [
      ['activityd-receiver', 'cluster_mode', 'online'],
      ['activityd-receiver', 'cluster_mode', 'online'],
      ['activityd-worker', 'fork_mode', 'online'],
    ]);
  });

  it('`pm2 reload` of the receivers under load refuses no request, and every event answered 202 is stored once', async () => {
    const url = `http://127.0.0.1:${port}/analytics/${tenant.token}`;
    const accepted: string[] = [];
    const refusals: string[] = [];
    const connectionRetries: string[] = [];
    let loading = true;
    // A sender resends what got no answer at all, with the same insert id (as Amplitude does); an HTTP refusal is
    // never resent here, so any refusal fails the test.
    const send = async (event: { insertId: string }) => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await postOnce(url, event);
        } catch (error) {
          if (attempt === 3) throw error;
          connectionRetries.push(`${event.insertId}: ${(error as Error).message}`);
        }
      }
    };
    const lane = async (lane: number) => {
      for (let round = 0; loading; round++) {
        const insertId = `reload-${lane}-${round}`;
        try {
          const status = await send({ externalId: `user-${round % 20}`, action: 'reload', insertId } as { insertId: string });
          if (status === 202) accepted.push(insertId);
          else refusals.push(`${insertId}: HTTP ${status}`);
        } catch (error) {
          refusals.push(`${insertId}: no answer in 3 tries: ${(error as Error).message}`);
        }
      }
    };
    const lanes = Promise.all([0, 1, 2, 3].map(lane));
    await waitFor('load running', async () => accepted.length > 100, 20000, 20);
    const before = accepted.length;
    await pm2('reload', 'activityd-receiver');
    const during = accepted.length - before;
    await new Promise((resolve) => setTimeout(resolve, 500));
    loading = false;
    await lanes;
    assert.deepEqual(refusals, [], 'no request refused during the reload');
    if (connectionRetries.length > 0) console.log(`      (${connectionRetries.length} of ${accepted.length} requests were resent after a connection error: ${connectionRetries.slice(0, 3).join('; ')})`);
    assert.ok(during > 0, 'requests were answered while the receivers reloaded');
    await waitFor('every accepted event stored', async () => (await countRows(db, 'activities', { tenant_id: tenant.id })) >= accepted.length, 60000, 200);
    const stored = (await db('activities').where({ tenant_id: tenant.id }).select('insert_id')).map((row: { insert_id: string }) => row.insert_id);
    assert.equal(stored.length, accepted.length);
    assert.deepEqual(new Set(stored), new Set(accepted));
  });

  it('`pm2 stop` of a busy worker loses nothing: after `pm2 start` every event is stored exactly once', async () => {
    const url = `http://127.0.0.1:${port}/analytics/bulk/${tenant.token}`;
    const requests = Array.from({ length: 60 }, (_, request) => Array.from({ length: 500 }, (_, i) => ({ id: `busy-${i % 50}`, action: 'busy', insertId: `busy-${request}-${i}` })));
    const sent = requests.flat().map((event) => event.insertId);
    // All at once, so the queue holds far more than the worker can store before it is stopped.
    assert.deepEqual(new Set(await Promise.all(requests.map((events) => postOnce(url, events)))), new Set([202]));
    const busyCount = () => db('activities').where({ tenant_id: tenant.id }).where('insert_id', 'like', 'busy-%').count({ n: '*' }).then(([row]) => Number(row.n));
    await waitFor('the worker busy', async () => (await busyCount()) > 0, 30000, 20);
    await pm2('stop', 'activityd-worker');
    const storedWhenStopped = await busyCount();
    assert.ok(storedWhenStopped < sent.length, `the worker was stopped while busy (${storedWhenStopped} of ${sent.length} stored)`);
    const logs = await pm2('logs', 'activityd-worker', '--nostream', '--lines', '200');
    assert.match(logs.stdout + logs.stderr, /stopped cleanly/);
    await pm2('start', 'activityd-worker');
    await waitFor('every event stored', async () => (await busyCount()) >= sent.length, 120000, 250);
    await waitForQueueDrained(env);
    const stored = (await db('activities').where({ tenant_id: tenant.id }).where('insert_id', 'like', 'busy-%').select('insert_id')).map((row: { insert_id: string }) => row.insert_id);
    assert.equal(stored.length, sent.length, 'none lost, none twice');
    assert.deepEqual(new Set(stored), new Set(sent));
  });
});
