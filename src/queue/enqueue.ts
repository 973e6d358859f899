/**
 * Puts the gathered requests of one tenant on the queue in one round trip, and withdraws what Redis did not
 * acknowledge in time, so that a 503 means none of the requests' events is stored (docs/guarantees.md).
 */
import type { Queue } from 'bullmq';
import type { ActivityEvent } from '../normalize/activityEvent';
import { INGEST_QUEUE, JobPart, StoredJob, withdrawnKey } from './ingestQueue';
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

/**
 * How long a withdrawal stays: a withdrawn job still waiting in the queue after this (no worker ran for a week)
 * would be stored. Only jobs the receiver gave up on leave one, so they cost Redis next to nothing.
 */
export const WITHDRAWN_TTL_SECONDS = 7 * 24 * 60 * 60;

/**
 * Withdraws jobs in one step, all or none. A job a worker has started (BullMQ counts its attempts, `ats`, when it
 * takes it, atomically with its lock) or finished, or that is gone (completed jobs are removed), is past
 * withdrawing: the answer is `taken`, and the receiver answers 202 after all. Otherwise each job gets its withdrawal
 * key, which every worker checks after taking a job, so no attempt of a withdrawn job stores anything.
 * ARGV[2] = '1': the receiver already answered 503 (its connection broke under the add, so it could not ask), and
 * the keys are set whatever the state: a job not there yet (ioredis resends an add that was unanswered when the
 * connection broke) is withdrawn ahead of its arrival, and one a worker took but did not commit is not run again.
 */
const WITHDRAW = `
if ARGV[2] ~= '1' then
  for i = 1, #KEYS, 2 do
    if redis.call('EXISTS', KEYS[i]) == 0 then return 'taken' end
    local started = redis.call('HMGET', KEYS[i], 'ats', 'finishedOn')
    if started[1] or started[2] then return 'taken' end
  end
end
for i = 2, #KEYS, 2 do redis.call('SET', KEYS[i], '1', 'EX', ARGV[1]) end
return 'withdrawn'`;

/** Withdraws the jobs named (see WITHDRAW), or says a worker has taken them; `answered`: the receiver already answered 503 for them. */
export function withdrawJobs(connection: RedisClient, prefix: string, ids: string[], answered = false): Promise<'taken' | 'withdrawn'> {
  const keys = ids.flatMap((id) => [`${prefix}:${INGEST_QUEUE}:${id}`, withdrawnKey(prefix, id)]);
  return connection.eval(WITHDRAW, keys.length, ...keys, WITHDRAWN_TTL_SECONDS, answered ? '1' : '0') as Promise<'taken' | 'withdrawn'>;
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
    // After ioredis has resent what was unanswered (it does so as it turns ready), so a resent job is there first.
    setImmediate(() => {
      for (const [first, ids] of unsent) {
        unsent.delete(first);
        withdrawJobs(connection, prefix, ids, true).catch(() => sendLater(ids));
      }
    });
  });

  /** The withdrawal's answer, or undefined when there was none in time (it is sent, or will be once Redis is back). */
  async function withdraw(ids: string[]): Promise<'taken' | 'withdrawn' | undefined> {
    if (connection.status !== 'ready') {
      sendLater(ids);
      return undefined;
    }
    const sent = withdrawJobs(connection, prefix, ids);
    sent.catch((error) => {
      if (isConnectionFailure(error)) sendLater(ids);
    });
    return withTimeout(sent, limits.timeoutMs, 'no answer').catch(() => {
      // The request is answered 503 without the answer: right behind it, the withdrawal that holds whatever the job's state.
      withdrawJobs(connection, prefix, ids, true).catch(() => sendLater(ids));
      return undefined;
    });
  }

  return {
    async enqueue(tenantId, parts) {
      // ioredis holds no offline queue for producers: while Redis is down, answer 503 at once instead of waiting.
      const status = connection.status;
      if (status !== undefined && status !== 'ready') return { outcome: 'unavailable', reason: `Redis is not connected (${connectionState(status)})` };
      const jobs = jobsFor(tenantId, parts, limits);
      const added: Promise<unknown> = jobs.length === 1 ? queue.add(jobs[0].name, jobs[0].data, jobs[0].opts) : queue.addBulk(jobs);
      let settled: 'acknowledged' | 'failed' | undefined;
      added.then(
        () => (settled = 'acknowledged'),
        () => (settled = 'failed'),
      );
      try {
        await withTimeout(added, limits.timeoutMs, `Redis did not acknowledge within ${limits.timeoutMs} ms`);
        return { outcome: 'queued' };
      } catch (error) {
        const unanswered = error instanceof TimedOut || isConnectionFailure(error);
        if (!unanswered) return { outcome: 'unavailable', reason: `Redis refused the events: ${(error as Error).message}` };
        const withdrawal = await withdraw(jobs.map((job) => job.opts.jobId));
        // Redis answers in order, so the job's answer came before the withdrawal's: let its promise settle first.
        await new Promise((resolve) => setImmediate(resolve));
        if (withdrawal === 'taken' && settled === 'acknowledged') return { outcome: 'queued' };
        const reason = error instanceof TimedOut ? `Redis did not acknowledge within ${limits.timeoutMs} ms (ENQUEUE_TIMEOUT_MS)` : `the connection to Redis failed (${(error as Error).message})`;
        return { outcome: 'withdrawn', reason };
      }
    },
  };
}
