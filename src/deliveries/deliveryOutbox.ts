/**
 * The receiver's side of the delivery log for requests that queued no job (refused, or Redis down): records go to a
 * Redis list that the worker moves into SQL, so the request path never writes SQL. While Redis is unreachable they
 * wait in memory (up to a bound) and go out once it is back.
 */
import type { Redis } from 'ioredis';
import type { Logger } from '../log';
import type { DeliveryRecord } from './deliveryRecord';

export const MAX_BUFFERED_RECORDS = 10000;

export function deliveryListKey(prefix: string): string {
  return `${prefix}:deliveries`;
}

export interface DeliveryOutbox {
  record(record: DeliveryRecord): void;
  /** Sends what is buffered; resolves when done or when Redis refuses. */
  flush(): Promise<void>;
}

export function createDeliveryOutbox(redis: Redis, prefix: string, log: Logger): DeliveryOutbox {
  const key = deliveryListKey(prefix);
  const buffered: string[] = [];
  let dropped = 0;
  let flushing: Promise<void> | undefined;

  async function send(): Promise<void> {
    while (buffered.length > 0 && redis.status === 'ready') {
      const batch = buffered.slice(0, 500);
      try {
        await redis.lpush(key, ...batch);
      } catch {
        return;
      }
      buffered.splice(0, batch.length);
    }
    if (dropped > 0 && redis.status === 'ready') {
      log.warn({ dropped }, 'delivery log records were dropped while Redis was unreachable (buffer full)');
      dropped = 0;
    }
  }

  const flush = () => (flushing ??= send().finally(() => (flushing = undefined)));
  redis.on('ready', () => void flush());

  return {
    record(record) {
      if (buffered.length >= MAX_BUFFERED_RECORDS) {
        buffered.shift();
        dropped += 1;
      }
      buffered.push(JSON.stringify(record));
      void flush();
    },
    flush,
  };
}
