/** Redis connections for the queue. Producers fail fast while Redis is down (the receiver answers 503); workers wait and reconnect. */
import IORedis, { Redis, RedisOptions } from 'ioredis';

export type RedisRole = 'producer' | 'worker';

export function connectRedis(url: string, role: RedisRole): Redis {
  const options: RedisOptions =
    role === 'producer'
      ? { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 5000 }
      : { maxRetriesPerRequest: null, enableReadyCheck: true };
  const redis = new IORedis(url, { ...options, retryStrategy: (times) => Math.min(times * 200, 2000) });
  // Connection errors surface through the queue's own calls; without a listener ioredis would print each retry.
  redis.on('error', () => undefined);
  return redis;
}
