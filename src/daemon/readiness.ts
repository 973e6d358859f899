/** Whether this process can do its work: Redis and the database both answer, each within a bound. */
import type { RedisClient } from '../queue/redis';
import type { Db } from '../store/db';
import type { HttpResult } from '../receive/httpResult';

const CHECK_TIMEOUT_MS = 2000;

async function probe(check: () => Promise<unknown>): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
      }),
    ]);
    return 'ok';
  } catch (error) {
    return `down: ${(error as Error).message}`;
  } finally {
    clearTimeout(timer);
  }
}

export async function checkReadiness(redis: RedisClient, db: Db): Promise<HttpResult> {
  const [redisState, databaseState] = await Promise.all([
    probe(() => (redis.status === 'ready' ? redis.ping() : Promise.reject(new Error(`connection is ${redis.status}`)))),
    probe(() => db.raw('SELECT 1')),
  ]);
  const ready = redisState === 'ok' && databaseState === 'ok';
  return { status: ready ? 200 : 503, body: { status: ready ? 'ready' : 'not ready', redis: redisState, database: databaseState } };
}
