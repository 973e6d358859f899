/** A process's producer connection to the ingest queue, shared by the receiver, the board, metrics and the CLI. */
import type { Queue } from 'bullmq';
import type { Config } from '../../config';
import type { Logger } from '../log';
import { connectRedis, RedisClient } from '../queue/redis';
import { StoredJob, openIngestQueue } from '../queue/ingestQueue';

export interface QueueHandle {
  redis: RedisClient;
  queue: Queue<StoredJob>;
  close(): Promise<void>;
}

/** One log line when Redis goes away and one when it is back, instead of one per reconnect attempt. */
function watchRedis(redis: RedisClient, queue: Queue, log: Logger): void {
  let reachable = true;
  redis.on('ready', () => {
    if (!reachable) log.info('Redis is reachable again');
    reachable = true;
  });
  redis.on('error', (error: Error) => {
    if (reachable) log.error({ err: error }, 'Redis is unreachable; ingest requests get 503 until it returns');
    reachable = false;
  });
  queue.on('error', () => undefined);
}

/** Waits (bounded) for the first connection, so the first requests after start are not refused; a Redis that is down does not keep the process from starting. */
function redisReady(redis: RedisClient, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      redis.off('ready', done);
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    redis.once('ready', done);
  });
}

export async function openQueueHandle(config: Config, log: Logger): Promise<QueueHandle> {
  const redis = connectRedis(config.REDIS_URL, 'producer');
  const queue = openIngestQueue(config, redis);
  watchRedis(redis, queue, log);
  await redisReady(redis, config.ENQUEUE_TIMEOUT_MS);
  return {
    redis,
    queue,
    async close() {
      await queue.close();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
