/**
 * `npm run soak -- --minutes N --rate R [--kill-worker]`: a real receiver and worker (child processes) on their own
 * redis-server and this run's database, under a steady R events per second. Each minute it prints Redis memory,
 * the RSS of both processes and the lag (events accepted but not stored yet, and the oldest waiting job's age);
 * at the end it waits for the queue to drain and checks that every accepted event is stored exactly once and that
 * memory stayed flat. With --kill-worker the worker is SIGKILLed and restarted once a minute.
 * Exit 0: flat and exactly once; 1: not. TEST_DATABASE=postgres runs it on PostgreSQL.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createTestEnv, openMigrated, countRows, waitFor, TEST_DATABASE_NAME } from '../support/testEnv';
import { newTenant, spawnActivityd, ensureStopped, ChildDaemon } from '../support/daemon';
import { postOnce } from '../support/plainPost';
import { startOwnRedis } from '../support/redisServer';
import { connectRedis } from '../../src/queue/redis';
import { openIngestQueue } from '../../src/queue/ingestQueue';

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  if (at === -1) return fallback;
  const value = Number(process.argv[at + 1]);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} needs a positive number`);
  return value;
}

const MINUTES = option('minutes', 10);
const RATE = option('rate', 200);
const KILL_WORKER = process.argv.includes('--kill-worker');
const TICK_MS = 100;
const MB = 1024 * 1024;

function rssBytes(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    return Number(execFileSync('ps', ['-o', 'rss=', '-p', String(pid)]).toString().trim()) * 1024;
  } catch {
    return NaN;
  }
}

const mb = (bytes: number) => (bytes / MB).toFixed(1).padStart(7);

async function main(): Promise<number> {
  const redisDir = fs.mkdtempSync(path.join(os.tmpdir(), 'activityd-soak-redis-'));
  const redis = await startOwnRedis(redisDir);
  // Short locks, so with --kill-worker a dead worker's jobs come back within seconds.
  const env = createTestEnv({ REDIS_URL: redis.url, LOG_LEVEL: 'warn', JOB_LOCK_MS: '5000', STALLED_CHECK_MS: '2000' });
  const db = await openMigrated(env.config);
  const children: ChildDaemon[] = [];
  const redisClient = connectRedis(env.config.REDIS_URL, 'producer');
  const queue = openIngestQueue(env.config, redisClient);
  try {
    const tenant = await newTenant(db, 'soak');
    // At info the receiver logs its port and little else (no line per request).
    const receiver = spawnActivityd(['receiver'], { ...env.env, LOG_LEVEL: 'info' });
    children.push(receiver);
    const port = (await receiver.waitForOutput(/"port":(\d+),"msg":"receiver listening"/, 60000))[1];
    const startWorker = () => {
      const worker = spawnActivityd(['worker'], { ...env.env, LOG_LEVEL: 'warn' });
      children.push(worker);
      return worker;
    };
    let worker = startWorker();
    const url = `http://127.0.0.1:${port}/analytics/bulk/${tenant.token}`;
    await waitFor('tenant known', async () => (await postOnce(url, [{ id: 'warmup', action: 'x', insertId: 'warm' }])) === 202, 10000);

    let accepted = 1;
    let refused = 0;
    let sequence = 0;
    let carry = 0;
    let inFlight = 0;
    const perTick = RATE * (TICK_MS / 1000);
    const ticker = setInterval(() => {
      carry += perTick;
      const count = Math.floor(carry);
      carry -= count;
      if (count === 0 || inFlight > 50) return; // the receiver is not keeping up: do not pile up sockets
      const events = Array.from({ length: count }, () => {
        const n = sequence++;
        return { id: `person-${n % 1000}`, email: `person${n % 1000}@company${n % 50}.example`, action: `action-${n % 20}`, cId: `company-${n % 50}`, info: { n }, insertId: `soak-${n}` };
      });
      inFlight += 1;
      postOnce(url, events)
        .then((status) => (status === 202 ? (accepted += events.length) : (refused += events.length)))
        .catch(() => (refused += events.length))
        .finally(() => (inFlight -= 1));
    }, TICK_MS);

    const stored = () => countRows(db, 'activities', { tenant_id: tenant.id });
    const samples: Array<{ redis: number; receiver: number; worker: number; lag: number }> = [];
    process.stdout.write(`soak on ${TEST_DATABASE_NAME}: ${MINUTES} min at ${RATE} events/s${KILL_WORKER ? ', worker SIGKILLed once a minute' : ''}\n`);
    process.stdout.write('minute  accepted    stored  lag(events)  oldest(s)  redis(MB)  receiver RSS(MB)  worker RSS(MB)\n');
    const startedAt = Date.now();
    for (let minute = 1; minute <= MINUTES; minute++) {
      if (KILL_WORKER) {
        await new Promise((resolve) => setTimeout(resolve, 15000 + Math.random() * 30000));
        worker.signal('SIGKILL');
        await worker.exited;
        worker = startWorker();
      }
      await new Promise((resolve) => setTimeout(resolve, minute * 60000 - (Date.now() - startedAt)));
      const storedNow = await stored();
      const [oldest] = await queue.getJobs(['wait'], 0, 0, true);
      const sample = { redis: await redis.usedMemory(), receiver: rssBytes(receiver.child.pid), worker: rssBytes(worker.child.pid), lag: accepted - storedNow };
      samples.push(sample);
      const oldestAge = oldest ? ((Date.now() - oldest.timestamp) / 1000).toFixed(1) : '0';
      process.stdout.write(`${String(minute).padStart(6)}  ${String(accepted).padStart(8)}  ${String(storedNow).padStart(8)}  ${String(sample.lag).padStart(11)}  ${oldestAge.padStart(9)}  ${mb(sample.redis)}    ${mb(sample.receiver)}           ${mb(sample.worker)}\n`);
    }
    clearInterval(ticker);
    await waitFor('requests answered', async () => inFlight === 0, 30000);
    await waitFor('every accepted event stored', async () => (await stored()) >= accepted, 300000, 500).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 1000));

    const problems: string[] = [];
    const rows: Array<{ insert_id: string }> = await db('activities').where({ tenant_id: tenant.id }).select('insert_id');
    const distinct = new Set(rows.map((row) => row.insert_id)).size;
    if (rows.length !== accepted || distinct !== accepted) problems.push(`stored ${rows.length} (${distinct} distinct) of ${accepted} accepted`);
    if (refused > 0) problems.push(`${refused} events were not accepted`);
    const counts = await queue.getJobCounts('failed');
    if (counts.failed > 0) problems.push(`${counts.failed} jobs failed`);
    // Flat: from the second minute on (the first includes warm-up), nothing grows by more than its allowance.
    if (samples.length >= 3) {
      const [first, last] = [samples[1], samples[samples.length - 1]];
      if (last.redis > first.redis * 1.5 + 5 * MB) problems.push(`Redis memory grew from ${mb(first.redis)} to ${mb(last.redis)} MB`);
      if (!KILL_WORKER && last.worker > first.worker * 1.5 + 20 * MB) problems.push(`worker RSS grew from ${mb(first.worker)} to ${mb(last.worker)} MB`);
      if (last.receiver > first.receiver * 1.5 + 20 * MB) problems.push(`receiver RSS grew from ${mb(first.receiver)} to ${mb(last.receiver)} MB`);
      if (!KILL_WORKER && last.lag > Math.max(first.lag * 2, RATE * 10)) problems.push(`lag grew from ${first.lag} to ${last.lag} events`);
    }
    process.stdout.write(problems.length === 0 ? `soak: flat, and all ${accepted} accepted events stored exactly once\n` : `soak: FAILED\n  ${problems.join('\n  ')}\n`);
    return problems.length === 0 ? 0 : 1;
  } finally {
    await Promise.all(children.map(ensureStopped));
    await queue.close();
    redisClient.disconnect();
    await db.destroy();
    await env.cleanup();
    await redis.stop();
    fs.rmSync(redisDir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`soak: ${(error as Error).stack ?? error}\n`);
    process.exit(1);
  },
);
