/**
 * Redis connections for the queue, to one server, a master found through Sentinel, or a Redis Cluster (REDIS_URL).
 * Producers fail fast while Redis is down (the receiver answers 503); workers wait and reconnect.
 */
import IORedis, { Cluster, Redis, RedisOptions } from 'ioredis';
import type { RedisTarget } from '../../config/parsers';

export type RedisRole = 'producer' | 'worker';

/** Either kind of client; both speak the commands activityd uses, and BullMQ takes both. */
export type RedisClient = Redis | Cluster;

const retryStrategy = (times: number) => Math.min(times * 200, 2000);

function roleOptions(role: RedisRole): RedisOptions {
  // No auto-pipelining: the job gatherer already sends one command per tenant at a time, carrying every request
  // that arrived meanwhile, so there is rarely a second command in the same tick to share a write with, and the
  // pipeline ioredis builds per tick cost the receiver more (about 8% of its CPU in the bench's profile) than the
  // writes it saved.
  return role === 'producer'
    ? { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 5000 }
    : { maxRetriesPerRequest: null, enableReadyCheck: true };
}

/** The ioredis constructor arguments for a target; split out so tests can check them without connecting. */
export function redisClientOptions(target: RedisTarget, role: RedisRole): { kind: 'redis'; url?: string; options: RedisOptions } | { kind: 'cluster'; nodes: Array<{ host: string; port: number }>; options: ConstructorParameters<typeof Cluster>[1] } {
  const options = roleOptions(role);
  switch (target.mode) {
    case 'standalone':
      return { kind: 'redis', url: target.url, options: { ...options, retryStrategy } };
    case 'sentinel':
      return {
        kind: 'redis',
        options: {
          ...options,
          retryStrategy,
          sentinels: target.sentinels,
          name: target.name,
          db: target.db,
          username: target.username,
          password: target.password,
          sentinelPassword: target.sentinelPassword,
          // Keep trying the sentinels (as we keep trying a plain Redis) instead of giving up after one round.
          sentinelRetryStrategy: retryStrategy,
        },
      };
    case 'cluster': {
      const { enableOfflineQueue, enableReadyCheck, enableAutoPipelining, ...perNode } = options;
      return {
        kind: 'cluster',
        nodes: target.nodes,
        options: {
          enableOfflineQueue,
          enableReadyCheck,
          enableAutoPipelining,
          clusterRetryStrategy: retryStrategy,
          redisOptions: { ...perNode, username: target.username, password: target.password },
        },
      };
    }
  }
}

export function connectRedis(target: RedisTarget, role: RedisRole): RedisClient {
  const built = redisClientOptions(target, role);
  const redis: RedisClient = built.kind === 'cluster' ? new Cluster(built.nodes, built.options) : built.url !== undefined ? new IORedis(built.url, built.options) : new IORedis(built.options);
  // Connection errors surface through the queue's own calls; without a listener ioredis would print each retry.
  redis.on('error', () => undefined);
  return redis;
}

/** The connection itself failed (refused, reset, timed out, closed), as opposed to a command Redis answered with an error. */
export function isConnectionFailure(error: unknown): boolean {
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return true;
  return typeof message === 'string' && /^(Connection is closed|Reached the max retries per request limit)/.test(message);
}
