/** The two pipelines the bench drives, each as real processes: activityd's receiver and worker, and the baseline's. */
import path from 'node:path';
import { spawnWatched, ensureStopped, ChildDaemon } from '../support/daemon';
import { CLI, REPO_ROOT } from '../support/testEnv';
import type { Db } from '../../src/store/db';
import { BASELINE_TABLE } from './baseline';

export interface Pipeline {
  name: 'activityd' | 'baseline';
  url: { single: string; bulk: string };
  /** The table, whose rows have action, received_at and stored_at (ms). */
  table: string;
  /** Key prefix (without braces) its Redis keys live under. */
  queuePrefix: string;
  pids: { receiver: number; worker: number };
  stop(): Promise<void>;
}

export interface PipelineEnv {
  env: Record<string, string>;
  port: number;
}

/** BENCH_NODE_ARGS (say "--cpu-prof --cpu-prof-dir=/tmp/prof") go to activityd's processes, for profiling them under load. */
function nodeArgs(): string[] {
  return (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
}

async function startBoth(receiver: ChildDaemon, worker: ChildDaemon, patterns: [RegExp, RegExp]): Promise<void> {
  try {
    await Promise.all([receiver.waitForOutput(patterns[0]), worker.waitForOutput(patterns[1])]);
  } catch (error) {
    await Promise.all([ensureStopped(receiver), ensureStopped(worker)]);
    throw error;
  }
}

export async function startActivityd({ env, port }: PipelineEnv, token: string): Promise<Pipeline> {
  const receiver = spawnWatched(process.execPath, [...nodeArgs(), CLI, 'receiver'], env);
  const worker = spawnWatched(process.execPath, [...nodeArgs(), CLI, 'worker'], env);
  await startBoth(receiver, worker, [/receiver listening/, /worker consuming the ingest queue/]);
  return {
    name: 'activityd',
    url: { single: `http://127.0.0.1:${port}/analytics/${token}`, bulk: `http://127.0.0.1:${port}/analytics/bulk/${token}` },
    table: 'activities',
    queuePrefix: env.QUEUE_PREFIX,
    pids: { receiver: receiver.child.pid as number, worker: worker.child.pid as number },
    stop: async () => {
      await ensureStopped(receiver);
      await ensureStopped(worker);
    },
  };
}

export async function startBaseline({ env, port }: PipelineEnv): Promise<Pipeline> {
  const script = path.join(REPO_ROOT, 'dist/test/bench/baseline.js');
  const receiver = spawnWatched(process.execPath, [script, 'receiver'], env);
  const worker = spawnWatched(process.execPath, [script, 'worker'], env);
  await startBoth(receiver, worker, [/baseline receiver listening/, /baseline worker consuming/]);
  return {
    name: 'baseline',
    url: { single: `http://127.0.0.1:${port}/`, bulk: `http://127.0.0.1:${port}/` },
    table: BASELINE_TABLE,
    queuePrefix: env.QUEUE_PREFIX,
    pids: { receiver: receiver.child.pid as number, worker: worker.child.pid as number },
    stop: async () => {
      await ensureStopped(receiver);
      await ensureStopped(worker);
    },
  };
}

/** Rows of one phase (by action) stored so far; counted past the phase's first id, so a poll stays cheap. */
export async function phaseStored(db: Db, pipeline: Pipeline, action: string, afterId: number): Promise<number> {
  const [row] = await db(pipeline.table).where('id', '>', afterId).andWhere({ action }).count({ n: '*' });
  return Number(row.n);
}

export async function lastId(db: Db, pipeline: Pipeline): Promise<number> {
  const [row] = await db(pipeline.table).max({ id: 'id' });
  return Number(row.id ?? 0);
}

/** The p-th percentile of stored_at - received_at over a phase's rows, in ms. */
export async function receivedToStoredPercentile(db: Db, pipeline: Pipeline, action: string, stored: number, p: number): Promise<number> {
  if (stored === 0) return NaN;
  const offset = Math.min(stored - 1, Math.floor(stored * p));
  const [row] = await db(pipeline.table).where({ action }).select(db.raw('stored_at - received_at as d')).orderBy('d').limit(1).offset(offset);
  return Number(row.d);
}
