/** The BullMQ worker that consumes the ingest queue and stores each job's events through the group committer. */
import { DelayedError, Job, UnrecoverableError, Worker } from 'bullmq';
import type { Config } from '../../config';
import type { Db } from '../store/db';
import type { Logger } from '../log';
import { connectRedis, isConnectionFailure } from '../queue/redis';
import { INGEST_QUEUE, IngestJob, isGatheredJob, partsOf, StoredJob, queuePrefix } from '../queue/ingestQueue';
import { decisionWindowMs, forgetConfirmation, readDecision } from '../queue/receiverDecision';
import { openJob } from '../queue/jobCipher';
import { SealedPayloadError } from '../sealing';
import { createGroupCommitter } from './groupCommit';
import type { BatchEntry, EventOutcome } from './writeBatch';
import { createInFlightBudget } from './inFlightBudget';
import { isTransientFailure } from './failures';
import { TimedOut, withTimeout } from '../timeouts';
import type { Registry } from 'prom-client';
import { createWorkerMetrics } from './workerMetrics';
import type { DeliveryOutbox } from '../queue/deliveryOutbox';
import { envelopeProblem, jobEventsProblem } from './jobShape';
import { createTenantCheck } from './knownTenants';
import { reconnectGrace } from './reconnectGrace';

/** A job refused before writing. `fileable`: its delivery link and tenant are sound, so its failure can go to the delivery log. */
class RejectedJob extends UnrecoverableError {
  constructor(
    reason: string,
    readonly fileable: boolean,
  ) {
    super(`refused before writing: ${reason}`);
  }
}

/**
 * A worker often takes a job before its confirmation, sent once the add's answer reached the receiver, is read: it
 * looks again after CONFIRMATION_IN_FLIGHT_MS while holding the job, and only then puts it back in the queue for
 * DECISION_RECHECK_MS (which takes three BullMQ steps and delays the job at least that long).
 */
const CONFIRMATION_IN_FLIGHT_MS = 5;
const DECISION_RECHECK_MS = 50;

export interface JobResult {
  /** The receiver gave up on the job and answered 503 for its requests (see queue/enqueue): nothing of it was stored. */
  withdrawn?: true;
  stored: number;
  duplicate: number;
  filtered: number;
  identified: number;
}

export interface IngestWorker {
  /** Stops taking jobs and waits for those in flight; after `timeoutMs` hands the rest back to the queue. */
  close(timeoutMs: number): Promise<void>;
}

type WorkerConfig = Pick<Config, 'REDIS_URL' | 'QUEUE_PREFIX' | 'WORKER_CONCURRENCY' | 'BATCH_MAX_EVENTS' | 'JOB_LOCK_MS' | 'STALLED_CHECK_MS' | 'JOB_MAX_STALLED' | 'JOB_ENCRYPTION_KEY' | 'ENQUEUE_TIMEOUT_MS' | 'ACTIVITY_RETENTION_DAYS'>;

export async function startIngestWorker(config: WorkerConfig, db: Db, log: Logger, registry: Registry, deliveries: DeliveryOutbox): Promise<IngestWorker> {
  const metrics = createWorkerMetrics(registry);
  const committer = createGroupCommitter(db, { maxEvents: config.BATCH_MAX_EVENTS, activityRetentionDays: config.ACTIVITY_RETENTION_DAYS });
  const connection = connectRedis(config.REDIS_URL, 'worker');
  const tenantExists = createTenantCheck(db);
  const prefix = queuePrefix(config);
  const afterReconnectGrace = reconnectGrace(connection);

  /** Checked before the job joins a batch, so a bad job fails alone and the batch's other jobs are written. */
  const checked = async (data: IngestJob): Promise<IngestJob> => {
    const envelope = envelopeProblem(data);
    if (envelope) throw new RejectedJob(envelope, false);
    if (!(await tenantExists(data.tenantId))) throw new RejectedJob(`tenant ${data.tenantId} does not exist`, false);
    const events = jobEventsProblem(data);
    if (events) throw new RejectedJob(events, true);
    return data;
  };

  // A job that does not open (encrypted, and no key or another one) is a permanent failure: set the key and replay it.
  const open = (data: StoredJob): IngestJob => {
    if (typeof data !== 'object' || data === null) throw new RejectedJob('the job data is not an object', false);
    try {
      return openJob(config.JOB_ENCRYPTION_KEY, data);
    } catch (error) {
      if (error instanceof SealedPayloadError) throw new UnrecoverableError(error.message);
      throw error;
    }
  };
  const openedOrUndefined = (data: StoredJob): IngestJob | undefined => {
    try {
      return openJob(config.JOB_ENCRYPTION_KEY, data);
    } catch {
      return undefined;
    }
  };

  /**
   * A gathered job's requests, in one transaction. A permanent failure may belong to one request only: then each is
   * written alone, so the others are stored (as they were when each request was its own job) and the job's failure
   * names the requests (delivery ids) it belongs to. A transient failure of any retries the whole job; what was
   * stored meanwhile counts as duplicates then.
   */
  const writeParts = async (entries: BatchEntry[]): Promise<EventOutcome[][]> => {
    try {
      return await committer.writeJob(entries);
    } catch (error) {
      if (entries.length === 1 || isTransientFailure(error)) throw error;
      const results = await Promise.allSettled(entries.map((entry) => committer.writeJob([entry])));
      const failed = results.flatMap((result, index) => (result.status === 'rejected' ? [{ error: result.reason as Error, entry: entries[index] }] : []));
      const transient = failed.find(({ error: partError }) => isTransientFailure(partError));
      if (transient) throw transient.error;
      if (failed.length > 0) throw new Error(failed.map(({ error: partError, entry }) => `delivery ${entry.delivery?.id}: ${partError.message}`).join('; '));
      return results.map((result) => (result as PromiseFulfilledResult<EventOutcome[][]>).value[0]);
    }
  };

  /**
   * The receiver's decision on a gathered job. One not decided yet goes back to the queue and is looked at again,
   * until the decision window is over: then its receiver died before answering, and the job is stored (`undefined`).
   */
  const decisionOn = async (job: Job<StoredJob, JobResult>, jobId: string, token: string | undefined): Promise<'confirmed' | 'withdrawn' | undefined> => {
    const deadline = job.timestamp + decisionWindowMs(config.ENQUEUE_TIMEOUT_MS);
    let decision = await readDecision(connection, prefix, jobId);
    if (decision !== undefined || Date.now() >= deadline) return decision;
    await new Promise((resolve) => setTimeout(resolve, CONFIRMATION_IN_FLIGHT_MS));
    decision = await readDecision(connection, prefix, jobId);
    if (decision !== undefined || Date.now() >= deadline) return decision;
    await job.moveToDelayed(Math.min(Date.now() + DECISION_RECHECK_MS, deadline), token);
    throw new DelayedError();
  };

  // Two batches' worth: one being written, the next gathering.
  const budget = createInFlightBudget({ maxJobs: config.WORKER_CONCURRENCY, maxEvents: 2 * config.BATCH_MAX_EVENTS }, (jobs) => {
    if (worker.concurrency !== jobs) worker.concurrency = jobs;
  });

  const worker = new Worker<StoredJob, JobResult>(
    INGEST_QUEUE,
    async (job, token) => {
      const data = await checked(open(job.data));
      let confirmed = false;
      if (isGatheredJob(data) && job.id !== undefined) {
        await afterReconnectGrace();
        const decision = await decisionOn(job, job.id, token);
        if (decision === 'withdrawn') {
          log.info({ jobId: job.id, deliveries: data.parts.map((part) => part.delivery.id) }, 'job withdrawn by its receiver (answered 503); nothing stored');
          return { withdrawn: true, stored: 0, duplicate: 0, filtered: 0, identified: 0 };
        }
        confirmed = decision === 'confirmed';
      }
      const parts = partsOf(data);
      const eventCount = parts.reduce((sum, part) => sum + part.events.length, 0);
      budget.take(eventCount);
      try {
        const retried = job.attemptsStarted > 1;
        const outcomes = (await writeParts(parts.map((part) => ({ tenantId: data.tenantId, ...part, retried })))).flat();
        metrics.countOutcomes(outcomes, data.receivedAt);
        if (confirmed) forgetConfirmation(connection, prefix, job.id as string);
        const count = (wanted: string) => outcomes.filter((outcome) => outcome === wanted).length;
        return { stored: count('stored'), duplicate: count('duplicate'), filtered: count('filtered'), identified: count('identified') };
      } catch (error) {
        if (isTransientFailure(error)) throw error;
        throw new UnrecoverableError(`permanent failure: ${(error as Error).message}`);
      } finally {
        budget.give(eventCount);
      }
    },
    {
      connection,
      prefix,
      concurrency: config.WORKER_CONCURRENCY,
      autorun: false,
      // A worker that dies holding jobs stops renewing their locks; once JOB_LOCK_MS runs out, the next stalled check
      // (every STALLED_CHECK_MS, by any worker) puts them back in the queue, up to JOB_MAX_STALLED times per job.
      lockDuration: config.JOB_LOCK_MS,
      stalledInterval: config.STALLED_CHECK_MS,
      maxStalledCount: config.JOB_MAX_STALLED,
    },
  );
  worker.on('failed', (job, error) => {
    const attempts = job?.opts.attempts ?? 1;
    const final = error instanceof UnrecoverableError || error.name === 'UnrecoverableError' || (job?.attemptsMade ?? 0) >= attempts;
    log[final ? 'error' : 'warn']({ jobId: job?.id, attemptsMade: job?.attemptsMade, err: error }, final ? 'job failed; kept for inspection' : 'job will be retried');
    const data = job && openedOrUndefined(job.data);
    // A job refused for its frame or its tenant has nothing sound to file: a record for a tenant that does not exist would block the delivery log.
    if (final && data && !envelopeProblem(data) && !(error instanceof RejectedJob && !error.fileable)) {
      for (const { events, delivery } of partsOf(data)) {
        metrics.countFailed(events.length);
        // Through the outbox, not SQL: the database may be what failed.
        if (delivery) deliveries.failed(delivery, events.map((event) => (typeof event?.insertId === 'string' ? event.insertId : '')), error.message);
      }
    }
  });
  // A job whose worker died holding it (its lock ran out), put back in the queue: it runs again, and its events already stored count as duplicates.
  worker.on('stalled', (jobId) => log.warn({ jobId }, 'job stalled (its worker died); back in the queue'));
  worker.on('completed', (job, result) => log.debug({ jobId: job.id, ...result }, 'job stored'));
  // Redis going and coming back is said once by the process's queue handle, not once per reconnect attempt here.
  worker.on('error', (error) => {
    if (!isConnectionFailure(error)) log.error({ err: error }, 'worker error');
  });
  void worker.run();
  // Bounded as the producer's first connection is, so a Redis that is down does not hold the start (or a stop) for ever.
  await withTimeout(worker.waitUntilReady(), config.ENQUEUE_TIMEOUT_MS, 'Redis not reachable yet').catch((error: Error) => {
    if (!(error instanceof TimedOut)) log.warn({ err: error }, 'Redis not reachable yet; the worker keeps trying');
  });
  log.info({ concurrency: config.WORKER_CONCURRENCY }, 'worker consuming the ingest queue');

  return {
    async close(timeoutMs) {
      try {
        await withTimeout(worker.close(), timeoutMs, 'drain time over');
      } catch (error) {
        if (!(error instanceof TimedOut)) throw error;
        log.warn({ timeoutMs }, 'jobs still running after the drain time; handing them back to the queue');
        await worker.close(true);
      }
      await connection.quit().catch(() => connection.disconnect());
    },
  };
}
