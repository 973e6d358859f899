/** The ingest queue: its name, its Redis key prefix, what a job carries and how jobs retry and are kept. */
import { Queue } from 'bullmq';
import type { RedisClient } from './redis';
import type { Config } from '../../config';
import type { ActivityEvent } from '../normalize/activityEvent';
import type { JobDelivery } from '../deliveries/deliveryRecord';

export const INGEST_QUEUE = 'ingest';

export interface IngestJob {
  tenantId: number;
  receivedAt: number;
  events: ActivityEvent[];
  /** Absent on jobs queued before the delivery log existed. */
  delivery?: JobDelivery;
}

/** A job with JOB_ENCRYPTION_KEY set: its events and delivery are sealed (see jobCipher); the tenant id and time stay readable for the board and metrics. */
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
