/** pm2 with ecosystem.config.js: a reload of the receivers under load (fresh and keep-alive connections) and a stop of a busy worker lose nothing. */
import assert from 'node:assert/strict';
import path from 'node:path';
import http from 'node:http';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createTestEnv, openMigrated, waitFor, countRows, TestEnv, REPO_ROOT } from './support/testEnv';
import { waitForQueueDrained } from './support/settled';
import { newTenant } from './support/daemon';
import { postOnce } from './support/plainPost';
import { freePort } from './support/net';
import { Db } from '../src/store/db';

const run = promisify(execFile);

/** One POST on the agent's keep-alive connection; a reset or a close without an answer rejects. */
function keepAlivePost(agent: http.Agent, url: string, body: unknown, sockets: Set<unknown>, timeoutMs = 15000): Promise<number> {
  return new Promise((resolve, reject) => {
    const payload = Buffer.from(JSON.stringify(body));
    const request = http.request(url, { method: 'POST', agent, timeout: timeoutMs, headers: { 'content-type': 'application/json', 'content-length': payload.length } }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    });
    request.on('socket', (socket) => sockets.add(socket));
    request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    request.on('error', reject);
    request.end(payload);
  });
}
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
      // The default, as deployed: the keep-alive reload test measures with it.
      KEEP_ALIVE_TIMEOUT_MS: '5000',
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

  it('20 keep-alive connections through three `pm2 reload`s: every request answered, none reset, every 202 stored once', async () => {
    const url = `http://127.0.0.1:${port}/analytics/${tenant.token}`;
    const accepted: string[] = [];
    const unanswered: string[] = [];
    const refusals: string[] = [];
    const sockets = new Set<unknown>();
    let loading = true;
    // Like a sender with a keep-alive pool: one connection per lane, reused while the server keeps it, nothing
    // resent. Most lanes pause a little between requests, four of them up to 6 s, across the announced keep-alive
    // timeout (5 s), so connections also sit idle, or are about to be reused, when a receiver leaves.
    const lane = async (lane: number) => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      try {
        for (let round = 0; loading; round++) {
          const insertId = `keepalive-${lane}-${round}`;
          try {
            const status = await keepAlivePost(agent, url, { externalId: `user-${round % 20}`, action: 'keepalive', insertId }, sockets);
            if (status === 202) accepted.push(insertId);
            else refusals.push(`${insertId}: HTTP ${status}`);
          } catch (error) {
            unanswered.push(`${insertId}: ${(error as Error).message}`);
          }
          const pause = lane % 5 === 4 ? 6000 : lane % 2 === 1 ? 100 : 0;
          if (pause > 0) await new Promise((resolve) => setTimeout(resolve, Math.random() * pause));
        }
      } finally {
        agent.destroy();
      }
    };
    const lanes = Promise.all(Array.from({ length: 20 }, (_, i) => lane(i)));
    await waitFor('load running', async () => accepted.length > 200, 20000, 20);
    const answeredPerReload: number[] = [];
    for (let reload = 0; reload < 3; reload++) {
      const before = accepted.length;
      await pm2('reload', 'activityd-receiver');
      answeredPerReload.push(accepted.length - before);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
    loading = false;
    await lanes;
    console.log(`      (${accepted.length + refusals.length + unanswered.length} requests on ${sockets.size} connections through 3 reloads: ${unanswered.length} unanswered, ${refusals.length} refused; answered during each reload: ${answeredPerReload.join(', ')})`);
    assert.deepEqual(unanswered, [], 'no request written to a keep-alive connection goes unanswered');
    assert.deepEqual(refusals, [], 'no request refused');
    assert.ok(answeredPerReload.every((n) => n > 0), 'requests were answered during every reload');
    await waitFor('every accepted event stored', async () => (await countRows(db, 'activities', { action: 'keepalive' })) >= accepted.length, 60000, 200);
    const stored = (await db('activities').where({ tenant_id: tenant.id, action: 'keepalive' }).select('insert_id')).map((row: { insert_id: string }) => row.insert_id);
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
