/** Whether this process can do its work: Redis and the database both answer, each within a bound. */
import type { RedisClient } from '../queue/redis';
import { Db, pingDatabase } from '../store/db';
import type { HttpResult } from '../http/result';
import { withTimeout } from '../timeouts';

const CHECK_TIMEOUT_MS = 2000;

async function probe(check: () => Promise<unknown>): Promise<string> {
  try {
    await withTimeout(check(), CHECK_TIMEOUT_MS, `no answer within ${CHECK_TIMEOUT_MS} ms`);
    return 'ok';
  } catch (error) {
    return `down: ${(error as Error).message}`;
  }
}

export async function checkReadiness(redis: RedisClient, db: Db): Promise<HttpResult> {
  const [redisState, databaseState] = await Promise.all([
    probe(() => (redis.status === 'ready' ? redis.ping() : Promise.reject(new Error(`connection is ${redis.status}`)))),
    probe(() => pingDatabase(db)),
  ]);
  const ready = redisState === 'ok' && databaseState === 'ok';
  return { status: ready ? 200 : 503, body: { status: ready ? 'ready' : 'not ready', redis: redisState, database: databaseState } };
}
