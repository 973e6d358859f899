/** A process's producer connection to the ingest queue, shared by the receiver, the board, metrics and the CLI. */
import type { Queue } from 'bullmq';
import type { Config } from '../../config';
import type { Logger } from '../log';
import { ConfigError } from '../../config';
import { connectRedis, RedisClient } from '../queue/redis';
import { failureReason } from './startupFailure';
import { StoredJob, openIngestQueue } from '../queue/ingestQueue';

export interface QueueHandle {
  redis: RedisClient;
  queue: Queue<StoredJob>;
  close(): Promise<void>;
}

/** One log line when Redis goes away, saying which one and what to do, and one when it is back: not one per reconnect attempt. */
function watchRedis(redis: RedisClient, queue: Queue, display: string, log: Logger): void {
  let reachable = true;
  redis.on('ready', () => {
    if (!reachable) log.info(`Redis at ${display} is reachable again`);
    reachable = true;
  });
  redis.on('error', (error: Error & { command?: { name?: string } }) => {
    // A refused SELECT is the start's to report (watchDbSelection), not an outage.
    if (error.command?.name === 'select' || !reachable) return;
    reachable = false;
    log.error(
      `Redis at ${display} (REDIS_URL) is unreachable: ${failureReason(error)}; ingest requests get 503 and the worker waits until it is back. ` +
        'Start one (redis-server, or docker run -d -p 6379:6379 redis:7) or point REDIS_URL at yours',
    );
  });
  queue.on('error', () => undefined);
}

/**
 * A db number the server does not have: ioredis reports the refused SELECT once and then works on db 0, where
 * another deployment's queue may live. Noted here so the start can stop instead.
 */
function watchDbSelection(redis: RedisClient): { refused?: string } {
  const selection: { refused?: string } = {};
  redis.on('error', (error: Error & { command?: { name?: string; args?: unknown[] } }) => {
    if (error.command?.name === 'select') selection.refused = `db ${String(error.command.args?.[0])} is not one that Redis has (${error.message}; it has as many as its "databases" setting, 16 by default)`;
  });
  return selection;
}

/** Waits (bounded) for the first connection, so the first requests after start are not refused; a Redis that is down does not keep the process from starting. */
function redisReady(redis: RedisClient, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  if (redis.status === 'ready' || signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      redis.off('ready', done);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    redis.once('ready', done);
    // A stop during the wait need not sit it out.
    signal?.addEventListener('abort', done);
  });
}

export async function openQueueHandle(config: Config, log: Logger, signal?: AbortSignal): Promise<QueueHandle> {
  const redis = connectRedis(config.REDIS_URL, 'producer');
  const queue = openIngestQueue(config, redis);
  const selection = watchDbSelection(redis);
  watchRedis(redis, queue, config.REDIS_URL.display, log);
  await redisReady(redis, config.ENQUEUE_TIMEOUT_MS, signal);
  const close = async () => {
    await queue.close();
    await redis.quit().catch(() => redis.disconnect());
  };
  if (selection.refused) {
    await close().catch(() => undefined);
    throw new ConfigError(`invalid setting: REDIS_URL ${selection.refused}`);
  }
  return { redis, queue, close };
}
