/**
 * JOB_ENCRYPTION_KEY over a job: what it carries of people (its events, with emails, names and info, and its
 * delivery record, with rejection messages) is sealed, so a Redis dump, an AOF file or a replica holds no plaintext
 * personal data. GCM authenticates too: a payload changed in Redis, or moved to another tenant's job (the tenant id
 * is bound in as associated data), does not open.
 */
import type { ActivityEvent } from '../normalize/activityEvent';
import type { JobDelivery } from '../deliveries/deliveryRecord';
import { IngestJob, isGatheredJob, JobPart, SealedJob, StoredJob } from './ingestQueue';
import { openText, sealText } from '../sealing';

const jobContext = (tenantId: number) => `ingest-job:${tenantId}`;

export function sealJob(key: Buffer | undefined, job: IngestJob): StoredJob {
  if (!key) return job;
  const { tenantId, receivedAt } = job;
  const secret = isGatheredJob(job) ? { parts: job.parts } : { events: job.events, delivery: job.delivery };
  return { tenantId, receivedAt, sealed: sealText(key, JSON.stringify(secret), jobContext(tenantId)) };
}

export function isSealedJob(job: StoredJob): job is SealedJob {
  return typeof (job as SealedJob).sealed === 'string';
}

/** The job as the worker uses it, in either shape; jobs queued without encryption are read as they are. */
export function openJob(key: Buffer | undefined, job: StoredJob): IngestJob {
  if (!isSealedJob(job)) return job;
  const opened = JSON.parse(openText(key, job.sealed, jobContext(job.tenantId))) as { parts?: JobPart[]; events: ActivityEvent[]; delivery?: JobDelivery };
  const { tenantId, receivedAt } = job;
  return opened.parts !== undefined ? { tenantId, receivedAt, parts: opened.parts } : { tenantId, receivedAt, events: opened.events, delivery: opened.delivery };
}
