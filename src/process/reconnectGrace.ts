/**
 * After Redis comes back, how long the worker leaves gathered jobs alone. A receiver whose connection broke under an
 * enqueue answered 503 without knowing whether the job had reached Redis, and sends its withdrawal once it
 * reconnects (within ioredis's 2 s retry backoff): the wait lets that withdrawal land before a worker looks for the
 * job's decision, whose window (see queue/receiverDecision) may have run out while Redis was down.
 */
import type { RedisClient } from '../queue/redis';

export const RECONNECT_GRACE_MS = 3000;

/** A wait that is over at once while the connection has not broken; for ever while it is down, and RECONNECT_GRACE_MS once it is back. */
export function reconnectGrace(connection: RedisClient): () => Promise<void> {
  let graceUntil = 0;
  let wasReady = false;
  connection.on('close', () => {
    if (wasReady) graceUntil = Infinity;
  });
  connection.on('ready', () => {
    if (wasReady) graceUntil = Date.now() + RECONNECT_GRACE_MS;
    wasReady = true;
  });
  return async () => {
    while (Date.now() < graceUntil) await new Promise((resolve) => setTimeout(resolve, Math.min(graceUntil - Date.now(), 100)));
  };
}
