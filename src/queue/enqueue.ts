/** Puts accepted events on the queue in one round trip: one job per JOB_MAX_EVENTS events; the first carries the request's delivery record. */
import type { Queue } from 'bullmq';
import type { ActivityEvent } from '../normalize/activityEvent';
import type { StoredJob } from './ingestQueue';
import type { DeliveryRecord } from '../deliveries/deliveryRecord';
import { sealJob } from './jobCipher';
import { TimedOut, withTimeout } from '../timeouts';

/**
 * The events could not be queued. `maybeQueued`: Redis did not answer in time, so they may still land in the queue
 * and be stored; otherwise Redis was not connected or refused them, and nothing was queued.
 */
export class QueueUnavailableError extends Error {
  constructor(message: string, readonly maybeQueued = false) {
    super(message);
  }
}

/** ioredis's connection states in words. */
function connectionState(status: string): string {
  if (status === 'end' || status === 'close') return 'the connection is closed';
  return 'still trying to connect';
}

export async function enqueueEvents(
  queue: Queue<StoredJob>,
  job: { tenantId: number; receivedAt: number; events: ActivityEvent[]; indexes: number[]; delivery: DeliveryRecord },
  limits: { jobMaxEvents: number; timeoutMs: number; encryptionKey?: Buffer },
): Promise<void> {
  // ioredis holds no offline queue for producers: while Redis is down, answer 503 at once instead of waiting.
  const status = (queue.opts.connection as { status?: string }).status;
  if (status !== undefined && status !== 'ready') throw new QueueUnavailableError(`Redis is not connected (${connectionState(status)})`);
  const jobs = [];
  for (let start = 0; start < job.events.length; start += limits.jobMaxEvents) {
    const events = job.events.slice(start, start + limits.jobMaxEvents);
    const delivery = { id: job.delivery.id, indexes: job.indexes.slice(start, start + limits.jobMaxEvents), ...(start === 0 && { record: job.delivery }) };
    // Named by tenant: the name outlives the data of a completed job (completedJobs.ts), and the board lists jobs by it.
    jobs.push({ name: `tenant ${job.tenantId}`, data: sealJob(limits.encryptionKey, { tenantId: job.tenantId, receivedAt: job.receivedAt, events, delivery }) });
  }
  try {
    const added: Promise<unknown> = jobs.length === 1 ? queue.add(jobs[0].name, jobs[0].data) : queue.addBulk(jobs);
    await withTimeout(added, limits.timeoutMs, `Redis did not acknowledge within ${limits.timeoutMs} ms`);
  } catch (error) {
    if (error instanceof TimedOut) throw new QueueUnavailableError(error.message, true);
    throw new QueueUnavailableError(`Redis refused the events: ${(error as Error).message}`);
  }
}
