/**
 * Conditions that say the worker is done, for tests that must show something was NOT stored (or stored only once):
 * counting after a fixed sleep passes whenever the worker is slower than the sleep, so these wait on the outcome.
 */
import IORedis from 'ioredis';
import { Queue } from 'bullmq';
import { INGEST_QUEUE, queuePrefix } from '../../src/queue/ingestQueue';
import { ADMIN_TOKEN, TestEnv, waitFor } from './testEnv';
import { request } from './http';

/** Waits until the ingest queue of a test run holds no job that is still to run (waiting, active, delayed); failed jobs may stay. */
export async function waitForQueueDrained(run: TestEnv, timeoutMs = 20000): Promise<void> {
  const connection = new IORedis(run.env.REDIS_URL, { maxRetriesPerRequest: 1 });
  const queue = new Queue(INGEST_QUEUE, { connection, prefix: queuePrefix(run.config) });
  try {
    await waitFor('the ingest queue to drain', async () => {
      const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children');
      return Object.values(counts).every((count) => count === 0);
    }, timeoutMs);
  } finally {
    await queue.close();
    connection.disconnect();
  }
}

export interface SettledDelivery {
  id: string;
  status: number;
  accepted: number;
  outcomes: Record<string, number>;
}

/**
 * Waits until the tenant's delivery log holds `count` accepted requests (2xx) whose every event has an outcome
 * (stored, duplicate, filtered, identified or failed: none pending), and returns them oldest first.
 */
export async function settledDeliveries(baseUrl: string, tenantId: number, count: number, timeoutMs = 20000): Promise<SettledDelivery[]> {
  return waitFor(`${count} accepted requests settled in the delivery log`, async () => {
    const reply = await request(`${baseUrl}/api/v1/tenants/${tenantId}/deliveries?limit=100`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    if (reply.status !== 200) throw new Error(`the delivery log answered ${reply.status}: ${reply.text.slice(0, 200)}`);
    const accepted = (reply.body.data as SettledDelivery[]).filter((delivery) => delivery.status >= 200 && delivery.status < 300);
    return accepted.length === count && accepted.every((delivery) => delivery.outcomes.pending === 0) && accepted.reverse();
  }, timeoutMs);
}
