/**
 * Puts the gathered requests of one tenant on the queue in one round trip, confirms what Redis acknowledged in time
 * and withdraws the rest, so that a 503 means none of the requests' events is stored (docs/guarantees.md).
 */
import type { Queue } from 'bullmq';
import type { ActivityEvent } from '../normalize/activityEvent';
import type { JobPart, StoredJob } from './ingestQueue';
import { confirmJobs, withdrawJobs } from './receiverDecision';
import { sealJob } from './jobCipher';
import { isConnectionFailure, RedisClient } from './redis';
import { TimedOut, withTimeout } from '../timeouts';
import { newTimeOrderedId } from '../timeOrderedIds';

/** `queued`: Redis acknowledged the job(s); otherwise none of the events is stored, for the reason given. */
export type EnqueueResult = { outcome: 'queued' } | { outcome: 'unavailable' | 'withdrawn'; reason: string };

export interface EnqueueLimits {
  jobMaxEvents: number;
  timeoutMs: number;
  encryptionKey?: Buffer;
}

/** ioredis's connection states in words. */
function connectionState(status: string): string {
  if (status === 'end' || status === 'close') return 'the connection is closed';
  return 'still trying to connect';
}

interface NewJob {
  name: string;
  data: StoredJob;
  opts: { jobId: string };
}

/**
 * The jobs for gathered parts: one job holding them all, or, for one request larger than JOB_MAX_EVENTS, one job per
 * JOB_MAX_EVENTS of its events (the first carries its delivery record). Ids are made here, not by BullMQ, so that a
 * job not acknowledged in time can be named to withdraw it.
 */
export function jobsFor(tenantId: number, parts: JobPart[], limits: Pick<EnqueueLimits, 'jobMaxEvents' | 'encryptionKey'>): NewJob[] {
  const job = (jobParts: JobPart[]): NewJob => ({
    // Named by tenant: the name outlives the data of a completed job (completedJobs.ts), and the board lists jobs by it.
    name: `tenant ${tenantId}`,
    data: sealJob(limits.encryptionKey, { tenantId, receivedAt: jobParts[0].receivedAt, parts: jobParts }),
    opts: { jobId: newTimeOrderedId() },
  });
  const events = parts.reduce((sum, part) => sum + part.events.length, 0);
  if (parts.length > 1 || events <= limits.jobMaxEvents) return [job(parts)];
  const [{ receivedAt, events: all, delivery }] = parts;
  const jobs: NewJob[] = [];
  for (let start = 0; start < all.length; start += limits.jobMaxEvents) {
    const chunk: ActivityEvent[] = all.slice(start, start + limits.jobMaxEvents);
    const indexes = delivery.indexes.slice(start, start + limits.jobMaxEvents);
    jobs.push(job([{ receivedAt, events: chunk, delivery: { id: delivery.id, indexes, ...(start === 0 && { record: delivery.record }) } }]));
  }
  return jobs;
}

export interface Enqueuer {
  enqueue(tenantId: number, parts: JobPart[]): Promise<EnqueueResult>;
}

export function createEnqueuer(queue: Queue<StoredJob>, limits: EnqueueLimits): Enqueuer {
  const connection = queue.opts.connection as RedisClient;
  const prefix = queue.opts.prefix as string;
  /** Withdrawals of jobs whose connection broke under them, sent once Redis is back; their requests were answered 503. */
  const unsent = new Map<string, string[]>();
  const sendLater = (ids: string[]) => unsent.set(ids[0], ids);

  connection.on('ready', () => {
    // After ioredis has resent what was unanswered (it does so as it turns ready), though the order does not matter:
    // a withdrawal set ahead of its job holds it all the same.
    setImmediate(() => {
      for (const [first, ids] of unsent) {
        unsent.delete(first);
        withdrawJobs(connection, prefix, ids).catch(() => sendLater(ids));
      }
    });
  });

  /** Sends the withdrawal without waiting for its answer: the answer is 503 whatever it says (or once Redis is back, if it is not connected). */
  function withdraw(ids: string[]): void {
    if (connection.status !== 'ready') {
      sendLater(ids);
      return;
    }
    withdrawJobs(connection, prefix, ids).catch((error) => {
      if (isConnectionFailure(error)) sendLater(ids);
    });
  }

  return {
    async enqueue(tenantId, parts) {
      // ioredis holds no offline queue for producers: while Redis is down, answer 503 at once instead of waiting.
      const status = connection.status;
      if (status !== undefined && status !== 'ready') return { outcome: 'unavailable', reason: `Redis is not connected (${connectionState(status)})` };
      const jobs = jobsFor(tenantId, parts, limits);
      const added: Promise<unknown> = jobs.length === 1 ? queue.add(jobs[0].name, jobs[0].data, jobs[0].opts) : queue.addBulk(jobs);
      const ids = jobs.map((job) => job.opts.jobId);
      try {
        await withTimeout(added, limits.timeoutMs, `Redis did not acknowledge within ${limits.timeoutMs} ms`);
      } catch (error) {
        // Decided: 503, even if the acknowledgement comes after all (the workers wait for this decision). A refusal is
        // withdrawn too: commands of a bulk add that Redis ran before one failed are not undone.
        added.catch(() => undefined);
        withdraw(ids);
        const unanswered = error instanceof TimedOut || isConnectionFailure(error);
        if (!unanswered) return { outcome: 'unavailable', reason: `Redis refused the events: ${(error as Error).message}` };
        const reason = error instanceof TimedOut ? `Redis did not acknowledge within ${limits.timeoutMs} ms (ENQUEUE_TIMEOUT_MS)` : `the connection to Redis failed (${(error as Error).message})`;
        return { outcome: 'withdrawn', reason };
      }
      confirmJobs(connection, prefix, ids, limits.timeoutMs);
      return { outcome: 'queued' };
    },
  };
}
