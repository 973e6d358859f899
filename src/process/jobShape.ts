/**
 * What the worker checks of a job before writing it. The receiver only queues what it validated, but anything
 * with Redis access (a script, a replayed dump, a forged board "add") can put a job there: one that is not what
 * the receiver makes is refused by name instead of being written, or failing somewhere inside the batch.
 */
import type { IngestJob } from '../queue/ingestQueue';
import { ENDPOINTS } from '../deliveries/deliveryRecord';

const OPTIONAL_TEXT = ['externalId', 'email', 'name', 'companyExternalId', 'companyName', 'assetExternalId', 'projectExternalId'];
const NUMBERS = ['date', 'count', 'weight'];
const OPTIONAL_OBJECTS = ['userProperties', 'companyProperties'];
const KINDS = ['identify', 'groupidentify'];

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const isText = (value: unknown): value is string => typeof value === 'string' && value !== '';

/** A delivery id as the receiver makes them: its order is the arrival order of property updates (arrivalStamp.ts), so a forged "zzz" must not outrank every real request for ever. */
const DELIVERY_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function recordProblem(record: unknown, job: IngestJob, deliveryId: string): string | undefined {
  if (!isObject(record)) return 'delivery.record: not an object';
  if (record.id !== deliveryId) return 'delivery.record.id: not the delivery\'s id';
  if (record.tenantId !== job.tenantId) return 'delivery.record.tenantId: not the job\'s tenant';
  if (!(ENDPOINTS as readonly unknown[]).includes(record.endpoint)) return 'delivery.record.endpoint: not an ingest endpoint';
  if (record.userAgent !== null && typeof record.userAgent !== 'string') return 'delivery.record.userAgent: not text';
  for (const field of ['receivedAt', 'status', 'accepted']) if (!Number.isSafeInteger(record[field])) return `delivery.record.${field}: not a whole number`;
  if (!Array.isArray(record.rejected)) return 'delivery.record.rejected: not a list';
  return undefined;
}

/** The job's frame: its tenant, time, events list and delivery link. A job with a bad frame cannot be filed in the delivery log either. */
export function envelopeProblem(job: IngestJob): string | undefined {
  if (!isObject(job)) return 'the job data is not an object';
  if (!Number.isSafeInteger(job.tenantId) || job.tenantId <= 0) return 'tenantId: not a tenant id';
  if (!Number.isFinite(job.receivedAt)) return 'receivedAt: not a time';
  if (!Array.isArray(job.events) || job.events.length === 0) return 'events: not a list of events';
  if (job.delivery === undefined) return undefined;
  const delivery: unknown = job.delivery;
  if (!isObject(delivery) || !isText(delivery.id)) return 'delivery.id: missing';
  if (!DELIVERY_ID.test(delivery.id)) return 'delivery.id: not a delivery id (a UUID in lower case)';
  if (!Array.isArray(delivery.indexes) || delivery.indexes.length !== job.events.length || !delivery.indexes.every((index) => Number.isSafeInteger(index) && index >= 0)) {
    return 'delivery.indexes: not one index per event';
  }
  return delivery.record === undefined ? undefined : recordProblem(delivery.record, job, delivery.id);
}

/** The first event that is not an ActivityEvent as the normalizer makes them, named by its index and field. */
export function eventsProblem(events: unknown[]): string | undefined {
  for (const [index, event] of events.entries()) {
    const at = `events[${index}]`;
    if (!isObject(event)) return `${at}: not an object`;
    if (event.kind !== undefined && !KINDS.includes(event.kind as string)) return `${at}.kind: must be "identify", "groupidentify" or absent`;
    if (!isText(event.action)) return `${at}.action: not a non-empty string`;
    if (!isText(event.insertId)) return `${at}.insertId: not a non-empty string`;
    for (const field of NUMBERS) if (!Number.isFinite(event[field])) return `${at}.${field}: not a number`;
    if (!isObject(event.info)) return `${at}.info: not an object`;
    for (const field of OPTIONAL_TEXT) if (event[field] !== undefined && typeof event[field] !== 'string') return `${at}.${field}: not text`;
    // Jobs queued before these fields existed have neither, and stay valid.
    for (const field of OPTIONAL_OBJECTS) if (event[field] !== undefined && !isObject(event[field])) return `${at}.${field}: not an object`;
    if (event.kind === 'groupidentify') continue;
    if (!isText(event.externalId) && !isText(event.email)) return `${at}: names no one (no externalId, no email)`;
  }
  return undefined;
}
