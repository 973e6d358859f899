/**
 * JOB_ENCRYPTION_KEY: AES-256-GCM over what a job carries of people (its events, with emails, names and info, and
 * its delivery record, with rejection messages) and over delivery-log records waiting in Redis, so a Redis dump,
 * an AOF file or a replica holds no plaintext personal data. GCM authenticates too: a payload changed in Redis, or
 * moved to another tenant's job (the tenant id is bound in as associated data), does not open.
 */
import crypto from 'node:crypto';
import type { ActivityEvent } from '../normalize/activityEvent';
import type { JobDelivery } from '../deliveries/deliveryRecord';
import type { IngestJob, SealedJob, StoredJob } from './ingestQueue';

const PREFIX = 'aes256gcm:';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A job (or record) that cannot be opened: no key, or not the key it was sealed with. Retrying cannot help. */
export class SealedPayloadError extends Error {}

export function sealText(key: Buffer, text: string, context: string): string {
  const iv = crypto.randomBytes(IV_BYTES);
  const cipher = crypto.createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(context));
  const body = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]);
  return PREFIX + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
}

export function isSealed(text: string): boolean {
  return text.startsWith(PREFIX);
}

/** Opens sealed text; plain text (written while encryption was off) passes through, so turning it on strands nothing. */
export function openText(key: Buffer | undefined, text: string, context: string): string {
  if (!isSealed(text)) return text;
  if (!key) throw new SealedPayloadError('payload is encrypted but JOB_ENCRYPTION_KEY is not set; set it and replay');
  const raw = Buffer.from(text.slice(PREFIX.length), 'base64');
  try {
    const decipher = crypto.createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(context));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
  } catch {
    throw new SealedPayloadError('payload does not open with JOB_ENCRYPTION_KEY (another key, or altered in Redis); set the key it was written with and replay');
  }
}

const jobContext = (tenantId: number) => `ingest-job:${tenantId}`;

export function sealJob(key: Buffer | undefined, job: IngestJob): StoredJob {
  if (!key) return job;
  const { tenantId, receivedAt, events, delivery } = job;
  return { tenantId, receivedAt, sealed: sealText(key, JSON.stringify({ events, delivery }), jobContext(tenantId)) };
}

export function isSealedJob(job: StoredJob): job is SealedJob {
  return typeof (job as SealedJob).sealed === 'string';
}

/** The job as the worker uses it; jobs queued without encryption are read as they are. */
export function openJob(key: Buffer | undefined, job: StoredJob): IngestJob {
  if (!isSealedJob(job)) return job;
  const { events, delivery } = JSON.parse(openText(key, job.sealed, jobContext(job.tenantId))) as { events: ActivityEvent[]; delivery?: JobDelivery };
  return { tenantId: job.tenantId, receivedAt: job.receivedAt, events, delivery };
}
