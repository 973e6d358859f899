/** The ingest queue: its name, its Redis key prefix, what a job carries and how jobs retry and are kept. */
import { Queue } from 'bullmq';
import type { RedisClient } from './redis';
import type { Config } from '../../config';
import type { ActivityEvent } from '../normalize/activityEvent';
import type { JobDelivery } from '../deliveries/deliveryRecord';

export const INGEST_QUEUE = 'ingest';

/** One request's share of a job: its events, when it arrived (its activities' received_at) and its delivery-log link. */
export interface JobPart {
  receivedAt: number;
  events: ActivityEvent[];
  delivery: JobDelivery;
}

/**
 * A job as receivers queue it: the parts of one or more requests of one tenant, gathered while the previous
 * enqueue was in flight (see jobGatherer). `receivedAt` is its first part's, for the board and metrics.
 */
export interface GatheredJob {
  tenantId: number;
  receivedAt: number;
  parts: JobPart[];
}

/** A job of one request, as receivers queued them before jobs were gathered; still read so that jobs left in Redis at an upgrade are stored. */
export interface SingleRequestJob {
  tenantId: number;
  receivedAt: number;
  events: ActivityEvent[];
  /** Absent on jobs queued before the delivery log existed. */
  delivery?: JobDelivery;
}

/** A job as the worker reads it, in either shape. */
export type IngestJob = GatheredJob | SingleRequestJob;

export function isGatheredJob(job: IngestJob): job is GatheredJob {
  return Array.isArray((job as GatheredJob).parts);
}

/** A job's requests; a single-request job is one part (its delivery absent if it predates the delivery log). */
export function partsOf(job: IngestJob): Array<{ receivedAt: number; events: ActivityEvent[]; delivery?: JobDelivery }> {
  return isGatheredJob(job) ? job.parts : [{ receivedAt: job.receivedAt, events: job.events, delivery: job.delivery }];
}

/** A job with JOB_ENCRYPTION_KEY set: what it carries of people (events, deliveries) is sealed (see jobCipher); the tenant id and time stay readable for the board and metrics. */
export interface SealedJob {
  tenantId: number;
  receivedAt: number;
  sealed: string;
}

/** A job as Redis holds it. */
export type StoredJob = IngestJob | SealedJob;

/** The braces make the prefix a Redis Cluster hash tag, so all of a queue's keys live on one cluster slot. */
export function queuePrefix(config: Pick<Config, 'QUEUE_PREFIX'>): string {
  return `{${config.QUEUE_PREFIX}}`;
}

type QueueConfig = Pick<Config, 'QUEUE_PREFIX' | 'JOB_ATTEMPTS' | 'JOB_BACKOFF_MS' | 'COMPLETED_JOBS_KEPT' | 'COMPLETED_JOBS_MAX_AGE_SECONDS'>;

export function openIngestQueue(config: QueueConfig, connection: RedisClient): Queue<StoredJob> {
  return new Queue<StoredJob>(INGEST_QUEUE, {
    connection,
    prefix: queuePrefix(config),
    // BullMQ's event stream (read by QueueEvents listeners, which activityd has none of) keeps 10,000 entries by
    // default, about 1 MB per queue that never goes away; a short tail is enough for a listener to catch up.
    streams: { events: { maxLen: 1000 } },
    defaultJobOptions: {
      attempts: config.JOB_ATTEMPTS,
      backoff: { type: 'exponential', delay: config.JOB_BACKOFF_MS },
      // Completed jobs stay a bounded while, so the board shows what went through lately and Redis memory reaches a
      // plateau instead of growing (their events are dropped: see completedJobs.ts); failed ones stay for inspection
      // and replay. BullMQ trims on each completion; a count of 0 removes each job as it completes.
      removeOnComplete: { count: config.COMPLETED_JOBS_KEPT, age: config.COMPLETED_JOBS_MAX_AGE_SECONDS },
      removeOnFail: false,
    },
  });
}
