/**
 * What the verbs share: the database (and the queue) opened around their work and closed after, JSON on stdout,
 * tenant IDs. The database and queue modules are loaded when a verb opens them, so that --help stays quick.
 */
import type { Config } from '../../config';
import type { Db } from '../store/db';
import type { QueueHandle } from '../daemon/queueHandle';
import { UsageError } from './verb';

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value) + '\n');
}

/** A tenant ID from the command line; `label` names where it came from (`tenant ID`, `--tenant`). */
export function tenantIdFrom(text: string | undefined, label = 'tenant ID'): number {
  if (text === undefined || !/^\d{1,15}$/.test(text)) throw new UsageError(`${label} must be a whole number, got ${text === undefined ? 'nothing' : `"${text}"`}`);
  return Number(text);
}

/** The database as it is (for `migrate`). */
export async function withDatabase<T>(config: Config, work: (db: Db) => Promise<T>): Promise<T> {
  const { openDatabase } = await import('../store/db.js');
  const db = openDatabase(config);
  try {
    return await work(db);
  } finally {
    await db.destroy();
  }
}

/** The database, refused with "run activityd migrate first" when its schema is behind. */
export function withCurrentDatabase<T>(config: Config, work: (db: Db) => Promise<T>): Promise<T> {
  return withDatabase(config, async (db) => {
    const { assertSchemaCurrent } = await import('../store/migrate.js');
    await assertSchemaCurrent(db);
    return work(db);
  });
}

export async function withQueue<T>(config: Config, work: (handle: QueueHandle, db: Db) => Promise<T>): Promise<T> {
  return withCurrentDatabase(config, async (db) => {
    const [{ openQueueHandle }, { createLogger }] = await Promise.all([import('../daemon/queueHandle.js'), import('../log.js')]);
    const handle = await openQueueHandle(config, createLogger({ LOG_LEVEL: 'silent' }, 'activityd-cli'));
    try {
      if (handle.redis.status !== 'ready') throw new Error(`Redis at ${config.REDIS_URL.display} is not answering`);
      return await work(handle, db);
    } finally {
      await handle.close();
    }
  });
}
