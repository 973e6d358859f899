/**
 * The usual set-ups of a test suite: its own Redis prefix and database, migrated, optionally seeded, with activityd
 * running in this process (useDaemon), or a migrated database with one tenant for tests of the store alone
 * (useStore), or real receiver processes (useReceivers); all of it torn down afterwards. `receive` hands the parts to the suite's variables.
 */
import { createTestEnv, openMigrated, TestEnv } from './testEnv';
import { startInProcess, startReceivers, ensureStopped, ChildDaemon, InProcessDaemon, newTenant } from './daemon';
import type { Db } from '../../src/store/db';

export interface DaemonParts {
  env: TestEnv;
  db: Db;
  daemon: InProcessDaemon;
  /** Child processes a test starts (workers, say): stopped before the rest is torn down. */
  children: ChildDaemon[];
}

export interface DaemonFixture {
  /** Settings for this suite's processes. */
  settings?: Record<string, string>;
  /** Run the worker too (default), or only the receiver. */
  worker?: boolean;
  /** Runs before activityd starts, e.g. to create tenants it should know from its first load. */
  seed?: (db: Db) => Promise<void>;
  /** A fresh set for every test instead of one for the suite. */
  perTest?: boolean;
}

export function useDaemon(fixture: DaemonFixture, receive: (parts: DaemonParts) => void): void {
  let parts: Partial<DaemonParts> = {};
  const setUp = async () => {
    parts.children = [];
    parts.env = createTestEnv(fixture.settings);
    parts.db = await openMigrated(parts.env.config);
    await fixture.seed?.(parts.db);
    parts.daemon = await startInProcess(parts.env.config, parts.db, { worker: fixture.worker ?? true });
    receive(parts as DaemonParts);
  };
  const tearDown = async () => {
    await Promise.all((parts.children ?? []).map(ensureStopped));
    await parts.daemon?.stop();
    await parts.db?.destroy();
    await parts.env?.cleanup();
    parts = {};
  };
  (fixture.perTest ? beforeEach : before)(setUp);
  (fixture.perTest ? afterEach : after)(tearDown);
}

export interface StoreParts {
  db: Db;
  tenantId: number;
}

/** A fresh migrated database with one tenant for every test. */
export function useStore(receive: (parts: StoreParts) => void): void {
  let env: TestEnv | undefined;
  let db: Db | undefined;
  beforeEach(async () => {
    env = createTestEnv();
    db = await openMigrated(env.config);
    receive({ db, tenantId: (await newTenant(db)).id });
  });
  afterEach(async () => {
    await db?.destroy();
    await env?.cleanup();
  });
}

export interface ReceiversParts {
  env: TestEnv;
  db: Db;
  /** Every receiver process started, these and any a test adds with startReceivers; all are stopped after. */
  receivers: ChildDaemon[];
  urls: string[];
}

/** `count` real receiver processes on one Redis prefix and database, for the tests of what crosses processes. */
export function useReceivers(count: number, settings: Record<string, string>, receive: (parts: ReceiversParts) => void): void {
  let parts: Partial<ReceiversParts> = {};
  before(async () => {
    parts.receivers = [];
    parts.env = createTestEnv(settings);
    parts.db = await openMigrated(parts.env.config);
    parts.urls = await startReceivers(parts.env.env, count, parts.receivers);
    receive(parts as ReceiversParts);
  });
  after(async () => {
    await Promise.all((parts.receivers ?? []).map(ensureStopped));
    await parts.db?.destroy();
    await parts.env?.cleanup();
    parts = {};
  });
}
