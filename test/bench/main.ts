/**
 * `npm run bench`: activityd's receiver and worker as real processes against Redis (REDIS_URL, default local) and
 * SQLite (default) or PostgreSQL (--db postgres), load from a separate process (undici), and the same load on
 * the baseline pipeline (./baseline.ts) in the same run, so the our/baseline ratios hold even on a noisy machine.
 * Options: --db sqlite|postgres, --events N (default 100000), --quick (20000 events, shorter paced phase),
 * --read-activities N (activityd's table filled to N for the read phase; default 500000, 50000 with --quick),
 * --cpu-prof DIR (CPU profiles of activityd's receiver and worker written to DIR; summarize with profileSummary.js).
 * Prints a table and writes the figures as JSON to test/bench/results/.
 */
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../config';
import { parseRedisUrl } from '../../config/parsers';
import { connectRedis, RedisClient } from '../../src/queue/redis';
import { openDatabase, Db } from '../../src/store/db';
import { migrateToLatest } from '../../src/store/migrate';
import { createTenant } from '../../src/tenants/tenantAccounts';
import { REPO_ROOT, TEST_POSTGRES_URL } from '../support/testEnv';
import { createBaselineTable } from './baseline';
import type { LoadResult, LoadSpec } from './load';
import { lastId, phaseStored, Pipeline, receivedToStoredPercentile, startActivityd, startBaseline } from './pipelines';
import { deletePrefix, peakRssMb, prefixFootprint, redisUsedMemory } from './measure';
import { printTable } from './table';
import { readPhase, ReadFigures } from './reads';

export interface BenchOptions {
  db: 'sqlite' | 'postgres';
  events: number;
  quick: boolean;
  readActivities: number;
  cpuProfDir?: string;
}

function parseArgs(argv: string[]): BenchOptions {
  const options: BenchOptions = { db: 'sqlite', events: 100000, quick: false, readActivities: 500000 };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--db' && (argv[i + 1] === 'sqlite' || argv[i + 1] === 'postgres')) options.db = argv[++i] as BenchOptions['db'];
    else if (argv[i] === '--events' && /^\d+$/.test(argv[i + 1] ?? '') && Number(argv[i + 1]) >= 1000) options.events = Number(argv[++i]);
    else if (argv[i] === '--read-activities' && /^\d+$/.test(argv[i + 1] ?? '') && Number(argv[i + 1]) >= 1000) options.readActivities = Number(argv[++i]);
    else if (argv[i] === '--quick') options.quick = true;
    else if (argv[i] === '--cpu-prof' && argv[i + 1] !== undefined && !argv[i + 1].startsWith('--')) options.cpuProfDir = path.resolve(argv[++i]);
    else throw new Error(`unknown or bad option ${argv[i]}; usage: npm run bench -- [--db sqlite|postgres] [--events N>=1000] [--read-activities N>=1000] [--quick] [--cpu-prof DIR]`);
  }
  if (options.quick && !argv.includes('--events')) options.events = 20000;
  if (options.quick && !argv.includes('--read-activities')) options.readActivities = 50000;
  options.events = Math.round(options.events / 1000) * 1000;
  return options;
}

const CONNECTIONS = 50;
const PACED_RATE = 2000;
const BULK_EVENTS = 1000;
/** A phase that makes no progress for this long is reported as partial rather than waited for. */
const STALL_MS = 30000;
const POLL_MS = 100;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function runLoad(spec: LoadSpec): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(__dirname, 'load.js'), JSON.stringify(spec)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as LoadResult) : reject(new Error(`load driver exited ${code}`))));
  });
}

/**
 * Polls until `expected` rows of the phase are queryable (or progress stalls); the time it first sees them all is
 * the end of the phase, so the end-to-end figure errs (by at most one poll) on the slow side.
 */
async function waitStored(db: Db, pipeline: Pipeline, action: string, afterId: number, expected: number) {
  let last = -1;
  let progressAt = Date.now();
  for (;;) {
    const stored = await phaseStored(db, pipeline, action, afterId);
    const at = Date.now();
    if (stored >= expected) return { stored, at, complete: true };
    if (stored > last) progressAt = at;
    else if (at - progressAt > STALL_MS) return { stored, at: progressAt, complete: false };
    last = stored;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

export interface PhaseFigures {
  load: LoadResult;
  events: number;
  stored: number;
  complete: boolean;
  endToEndEventsPerSecond: number;
  p95ReceivedToStoredMs: number;
}

export type PhaseSpec = Omit<LoadSpec, 'url' | 'connections'> & { connections?: number };

async function phase(db: Db, pipeline: Pipeline, spec: PhaseSpec): Promise<PhaseFigures> {
  const url = spec.kind === 'single' ? pipeline.url.single : pipeline.url.bulk;
  const afterId = await lastId(db, pipeline);
  const load = await runLoad({ connections: CONNECTIONS, ...spec, url });
  const events = load.ok * spec.eventsPerRequest;
  const done = await waitStored(db, pipeline, spec.action, afterId, events);
  return {
    load,
    events,
    stored: done.stored,
    complete: done.complete,
    endToEndEventsPerSecond: done.stored / ((done.at - load.startedAt) / 1000),
    p95ReceivedToStoredMs: await receivedToStoredPercentile(db, pipeline, spec.action, done.stored, 0.95),
  };
}

export interface PipelineFigures {
  single: PhaseFigures;
  /** Single-event POSTs of Amplitude export records (about 2 KB each), as the Webhook destination sends them; absent in results from before it. */
  export?: PhaseFigures;
  paced: PhaseFigures;
  bulk: PhaseFigures;
  peakRssMb: { receiver: number; worker: number };
  redis: { usedMemoryBefore: number; usedMemoryAfter: number; keysLeft: number; bytesLeft: number; keyNames: string[]; keptCompleted?: { jobs: number; bytes: number } };
  /** activityd only. */
  reads?: ReadFigures;
}

async function runPipeline(name: Pipeline['name'], options: BenchOptions, redis: RedisClient, run: { id: string; dir: string; redisUrl: string }): Promise<PipelineFigures> {
  const port = await freePort();
  const queuePrefix = `${run.id}-${name}`;
  const databaseUrl = options.db === 'postgres' ? `${process.env.BENCH_POSTGRES_URL ?? TEST_POSTGRES_URL}?schema=${run.id}_${name}` : path.join(run.dir, `${name}.sqlite`);
  const adminToken = crypto.randomBytes(24).toString('hex');
  const env = { HOST: '127.0.0.1', PORT: String(port), REDIS_URL: run.redisUrl, DATABASE_URL: databaseUrl, QUEUE_PREFIX: queuePrefix, LOG_LEVEL: 'info', WORKER_METRICS_PORT: '0', ADMIN_TOKEN: adminToken };
  const db = openDatabase(loadConfig(env));
  let token = '';
  let tenantId = 0;
  if (name === 'activityd') {
    await migrateToLatest(db);
    ({ token, id: tenantId } = await createTenant(db, 'bench'));
  } else {
    await createBaselineTable(db);
  }
  const usedMemoryBefore = await redisUsedMemory(redis);
  const pipeline = name === 'activityd' ? await startActivityd({ env, port }, token) : await startBaseline({ env, port });
  let figures: Omit<PipelineFigures, 'redis'>;
  try {
    const n = options.events;
    process.stderr.write(`bench: ${name}: ${n} single-event POSTs at full load...\n`);
    const single = await phase(db, pipeline, { kind: 'single', eventsPerRequest: 1, action: 'single', amount: n });
    process.stderr.write(`bench: ${name}: ${n} single-event POSTs of Amplitude export records at full load...\n`);
    const exported = await phase(db, pipeline, { kind: 'single', eventsPerRequest: 1, action: 'export', amount: n, format: 'amplitude-export' });
    process.stderr.write(`bench: ${name}: ${PACED_RATE} requests/s...\n`);
    const paced = await phase(db, pipeline, { kind: 'single', eventsPerRequest: 1, action: 'paced', duration: options.quick ? 5 : 10, rate: PACED_RATE });
    process.stderr.write(`bench: ${name}: ${n / BULK_EVENTS} bulk POSTs of ${BULK_EVENTS} events...\n`);
    const bulk = await phase(db, pipeline, { kind: 'bulk', eventsPerRequest: BULK_EVENTS, action: 'bulk', amount: n / BULK_EVENTS, connections: 4 });
    const target = { baseUrl: `http://127.0.0.1:${port}`, tenantId, adminToken };
    const reads = name === 'activityd' ? await readPhase(db, pipeline, target, options.readActivities, (spec) => phase(db, pipeline, spec), options.quick) : undefined;
    figures = { single, export: exported, paced, bulk, reads, peakRssMb: { receiver: peakRssMb(pipeline.pids.receiver), worker: peakRssMb(pipeline.pids.worker) } };
  } finally {
    await pipeline.stop();
    await db.destroy();
  }
  const left = await prefixFootprint(redis, queuePrefix);
  return { ...figures, redis: { usedMemoryBefore, usedMemoryAfter: await redisUsedMemory(redis), keysLeft: left.keys, bytesLeft: left.bytes, keyNames: left.names, keptCompleted: left.keptCompleted } };
}

async function dropPostgresSchemas(run: { id: string }): Promise<void> {
  const db = openDatabase(loadConfig({ DATABASE_URL: process.env.BENCH_POSTGRES_URL ?? TEST_POSTGRES_URL }));
  for (const name of ['activityd', 'baseline']) await db.raw(`DROP SCHEMA IF EXISTS "${run.id}_${name}" CASCADE`);
  await db.destroy();
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  if (options.cpuProfDir !== undefined) {
    fs.mkdirSync(options.cpuProfDir, { recursive: true });
    // activityd's processes write a profile each when they stop (pipelines.ts passes BENCH_NODE_ARGS on).
    process.env.BENCH_NODE_ARGS = `${process.env.BENCH_NODE_ARGS ?? ''} --cpu-prof --cpu-prof-dir=${options.cpuProfDir}`;
  }
  const run = { id: `bench_${crypto.randomBytes(4).toString('hex')}`, dir: fs.mkdtempSync(path.join(os.tmpdir(), 'activityd-bench-')), redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' };
  const redis = connectRedis(parseRedisUrl(run.redisUrl), 'worker');
  const started = new Date();
  try {
    const activityd = await runPipeline('activityd', options, redis, run);
    const baseline = await runPipeline('baseline', options, redis, run);
    const report = { started: started.toISOString(), options, machine: { cpus: os.cpus().length, node: process.version }, redisUrl: parseRedisUrl(run.redisUrl).display, activityd, baseline };
    printTable(report);
    const dir = path.join(REPO_ROOT, 'test/bench/results');
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `${started.toISOString().replace(/[:.]/g, '-')}-${options.db}${options.quick ? '-quick' : ''}.json`);
    fs.writeFileSync(file, JSON.stringify(report, null, 2) + '\n');
    process.stdout.write(`\nfigures written to ${path.relative(REPO_ROOT, file)}\n`);
  } finally {
    for (const name of ['activityd', 'baseline']) await deletePrefix(redis, `${run.id}-${name}`);
    redis.disconnect();
    if (options.db === 'postgres') await dropPostgresSchemas(run);
    fs.rmSync(run.dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  process.stderr.write(`bench failed: ${(error as Error).stack}\n`);
  process.exit(1);
});
