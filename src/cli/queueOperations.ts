/** The queue as operators see it: counts for `activityd status`, and failed jobs to list, retry or discard. */
import type { Queue } from 'bullmq';
import type { Db } from '../store/db';
import { countStoredSince } from '../store/activities';
import { IngestJob, partsOf, StoredJob } from '../queue/ingestQueue';
import { envelopeProblem } from '../process/jobShape';
import { createProgress } from './progress';
import { isSealedJob, openJob } from '../queue/jobCipher';

export async function queueStatus(queue: Queue<StoredJob>, db: Db) {
  const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'prioritized');
  const [oldest] = await queue.getJobs(['wait'], 0, 0, true);
  const since = Date.now() - 60000;
  const n = await countStoredSince(db, since);
  return {
    queue: { waiting: counts.waiting + (counts.prioritized ?? 0), active: counts.active, delayed: counts.delayed, failed: counts.failed },
    oldestWaitingAgeSeconds: oldest ? Math.round((Date.now() - oldest.timestamp) / 100) / 10 : null,
    storedLastMinute: n,
    storedPerSecondLastMinute: Math.round((n / 60) * 10) / 10,
  };
}

/** Opens an encrypted job with the key, if it opens; else the counts it cannot show are null. */
function readable(key: Buffer | undefined, data: StoredJob) {
  try {
    return openJob(key, data);
  } catch {
    return undefined;
  }
}

/**
 * What a failed job carried: its events, and per request (delivery) its id and event count; `deliveryId` is the
 * one delivery's id when there is one, as listed before jobs were gathered. All null for a job that did not open or
 * is not a job's shape.
 */
function contentsOf(job: IngestJob | undefined) {
  if (!job || envelopeProblem(job)) return { events: null, deliveryId: null, deliveries: null };
  const parts = partsOf(job);
  const deliveries = parts.map((part) => ({ id: part.delivery?.id ?? null, events: part.events.length }));
  return { events: parts.reduce((sum, part) => sum + part.events.length, 0), deliveryId: deliveries.length === 1 ? deliveries[0].id : null, deliveries };
}

export async function listFailed(queue: Queue<StoredJob>, limit: number, encryptionKey?: Buffer) {
  const jobs = await queue.getFailed(0, limit - 1);
  return jobs.map((job) => {
    // A job put into Redis by something other than the receiver (and failed by the worker for it) may hold anything.
    const data = (typeof job.data === 'object' && job.data !== null ? job.data : {}) as StoredJob;
    const opened = readable(encryptionKey, data);
    return {
      id: job.id,
      tenantId: data.tenantId ?? null,
      encrypted: isSealedJob(data),
      ...contentsOf(opened),
      attemptsMade: job.attemptsMade,
      failedAt: job.finishedOn ? new Date(job.finishedOn).toISOString() : null,
      reason: job.failedReason,
    };
  });
}

/** The failed jobs named, or all of them; ids that are not failed jobs are reported, not guessed at. */
async function selectFailed(queue: Queue<StoredJob>, ids: string[], all: boolean) {
  if (all) return { jobs: await queue.getFailed(0, -1), missing: [] as string[] };
  const jobs = [];
  const missing: string[] = [];
  for (const id of ids) {
    const job = await queue.getJob(id);
    if (job && (await job.isFailed())) jobs.push(job);
    else missing.push(id);
  }
  return { jobs, missing };
}

/** Puts failed jobs back in the queue with a fresh retry budget; their events keep their insertIds, so a replay never stores twice. */
export async function retryFailed(queue: Queue<StoredJob>, ids: string[], all: boolean) {
  const { jobs, missing } = await selectFailed(queue, ids, all);
  const progress = createProgress(jobs.length, 'retrying failed jobs');
  let retried = 0;
  for (const job of jobs) {
    await job.retry('failed', { resetAttemptsMade: true });
    retried += 1;
    progress.advance();
  }
  progress.finish();
  return { retried, notFailed: missing };
}

export async function discardFailed(queue: Queue<StoredJob>, ids: string[], all: boolean) {
  const { jobs, missing } = await selectFailed(queue, ids, all);
  const progress = createProgress(jobs.length, 'discarding failed jobs');
  let discarded = 0;
  for (const job of jobs) {
    await job.remove();
    discarded += 1;
    progress.advance();
  }
  progress.finish();
  return { discarded, notFailed: missing };
}
