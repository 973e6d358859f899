/**
 * Each test run gets its own Redis key prefix and its own SQLite file (or PostgreSQL schema, with
 * TEST_DATABASE=postgres), so runs never see each other's data; both are removed afterwards.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import IORedis from 'ioredis';
import { Config, loadConfig } from '../../config';
import { openDatabase, Db } from '../../src/store/db';
import { migrateToLatest } from '../../src/store/migrate';

export const REPO_ROOT = path.resolve(__dirname, '../../..');
export const CLI = path.join(REPO_ROOT, 'dist/src/cli/main.js');
export const ADMIN_TOKEN = 'test-admin-token-0123456789';

export interface TestEnv {
  /** Environment variables for a process of this run. */
  env: Record<string, string>;
  config: Config;
  dir: string;
  /** A config for this run with some settings changed. */
  configWith(overrides: Record<string, string>): Config;
  cleanup(): Promise<void>;
}

/** The database this run's tests use: SQLite files by default, PostgreSQL schemas with TEST_DATABASE=postgres. */
export const TEST_DATABASE: 'sqlite' | 'postgres' = process.env.TEST_DATABASE === 'postgres' ? 'postgres' : 'sqlite';
export const TEST_POSTGRES_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const DATABASE_NAMES = { sqlite: 'SQLite', postgres: 'PostgreSQL' } as const;
export const TEST_DATABASE_NAME = DATABASE_NAMES[TEST_DATABASE];

/**
 * Skips a test that only means something on one database, saying why in its title (mocha lists skipped tests by
 * title only). Call it first thing in the test, with `this` of a `function ()` test.
 */
export function onlyOn(context: Mocha.Context, database: 'sqlite' | 'postgres', reason: string): void {
  if (TEST_DATABASE === database) return;
  if (context.test) context.test.title += ` [skipped on ${TEST_DATABASE_NAME}: ${reason}]`;
  context.skip();
}

export function createTestEnv(overrides: Record<string, string> = {}): TestEnv {
  const id = `t${process.pid}_${crypto.randomBytes(4).toString('hex')}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'activityd-test-'));
  const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const databaseUrl =
    TEST_DATABASE === 'postgres'
      ? `${TEST_POSTGRES_URL}?schema=${id}`
      : path.join(dir, 'activityd.sqlite');
  const env: Record<string, string> = {
    PORT: '0',
    HOST: '127.0.0.1',
    REDIS_URL: redisUrl,
    DATABASE_URL: databaseUrl,
    QUEUE_PREFIX: `activityd-test-${id}`,
    ADMIN_TOKEN,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'fatal',
    JOB_BACKOFF_MS: '50',
    TENANT_REFRESH_MS: '500',
    // Several workers of one run must not fight over the default metrics port; tests that want it set one.
    WORKER_METRICS_PORT: '0',
    // A stopping receiver waits for idle keep-alive connections to end at their timeout; fetch's pool (undici)
    // ends them a second before the announced one, so the shortest keeps each stop within about a second.
    KEEP_ALIVE_TIMEOUT_MS: '2000',
    ...overrides,
  };
  const configWith = (more: Record<string, string>) => loadConfig({ ...env, ...more });
  return {
    env,
    config: configWith({}),
    dir,
    configWith,
    async cleanup() {
      const redis = new IORedis(redisUrl, { maxRetriesPerRequest: 1 });
      try {
        let cursor = '0';
        do {
          const [next, keys] = await redis.scan(cursor, 'MATCH', `{${env.QUEUE_PREFIX}}:*`, 'COUNT', 1000);
          if (keys.length > 0) await redis.del(...keys);
          cursor = next;
        } while (cursor !== '0');
      } finally {
        redis.disconnect();
      }
      const target = loadConfig(env).DATABASE_URL;
      if (target.client === 'postgres') {
        const db = openDatabase(loadConfig({ ...env, DATABASE_URL: databaseUrl.replace(/\?schema=.*/, '') }));
        await db.raw(`DROP SCHEMA IF EXISTS "${target.schema}" CASCADE`);
        await db.destroy();
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Opens this run's database, migrated. */
export async function openMigrated(config: Config): Promise<Db> {
  const db = openDatabase(config);
  await migrateToLatest(db);
  return db;
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 20000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}

export async function countRows(db: Db, table: string, where: Record<string, unknown> = {}): Promise<number> {
  const [{ n }] = await db(table).where(where).count({ n: '*' });
  return Number(n);
}
