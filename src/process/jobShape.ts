/**
 * What the worker checks of a job before writing it. The receiver only queues what it validated, but anything
 * with Redis access (a script, a replayed dump, a forged board "add") can put a job there: one that is not what
 * the receiver makes is refused by name instead of being written, or failing somewhere inside the batch.
 */
import { IngestJob, isGatheredJob } from '../queue/ingestQueue';
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

function recordProblem(record: unknown, tenantId: number, deliveryId: string, at: string): string | undefined {
  if (!isObject(record)) return `${at}.record: not an object`;
  if (record.id !== deliveryId) return `${at}.record.id: not the delivery's id`;
  if (record.tenantId !== tenantId) return `${at}.record.tenantId: not the job's tenant`;
  if (!(ENDPOINTS as readonly unknown[]).includes(record.endpoint)) return `${at}.record.endpoint: not an ingest endpoint`;
  if (record.userAgent !== null && typeof record.userAgent !== 'string') return `${at}.record.userAgent: not text`;
  for (const field of ['receivedAt', 'status', 'accepted']) if (!Number.isSafeInteger(record[field])) return `${at}.record.${field}: not a whole number`;
  if (!Array.isArray(record.rejected)) return `${at}.record.rejected: not a list`;
  return undefined;
}

/** A request's events list and delivery link (`at` names where it sits in the job). */
function partProblem(events: unknown, delivery: unknown, tenantId: number, at: string): string | undefined {
  const eventsAt = at === '' ? 'events' : `${at}.events`;
  const deliveryAt = at === '' ? 'delivery' : `${at}.delivery`;
  if (!Array.isArray(events) || events.length === 0) return `${eventsAt}: not a list of events`;
  if (delivery === undefined && at === '') return undefined;
  if (!isObject(delivery) || !isText(delivery.id)) return `${deliveryAt}.id: missing`;
  if (!DELIVERY_ID.test(delivery.id)) return `${deliveryAt}.id: not a delivery id (a UUID in lower case)`;
  if (!Array.isArray(delivery.indexes) || delivery.indexes.length !== events.length || !delivery.indexes.every((index) => Number.isSafeInteger(index) && index >= 0)) {
    return `${deliveryAt}.indexes: not one index per event`;
  }
  return delivery.record === undefined ? undefined : recordProblem(delivery.record, tenantId, delivery.id, deliveryAt);
}

/**
 * The job's frame: its tenant, time, and each request's events list and delivery link, in either shape (a gathered
 * job's `parts`, or the single-request jobs queued before it, whose delivery link may be absent). A job with a bad
 * frame cannot be filed in the delivery log either.
 */
export function envelopeProblem(job: IngestJob): string | undefined {
  if (!isObject(job)) return 'the job data is not an object';
  if (!Number.isSafeInteger(job.tenantId) || job.tenantId <= 0) return 'tenantId: not a tenant id';
  if (!Number.isFinite(job.receivedAt)) return 'receivedAt: not a time';
  const data = job as unknown as Record<string, unknown>;
  if (data.parts === undefined) return partProblem(data.events, data.delivery, job.tenantId, '');
  if (!Array.isArray(data.parts) || data.parts.length === 0) return 'parts: not a list of requests';
  for (const [index, part] of data.parts.entries()) {
    const at = `parts[${index}]`;
    if (!isObject(part)) return `${at}: not an object`;
    if (!Number.isFinite(part.receivedAt)) return `${at}.receivedAt: not a time`;
    const problem = partProblem(part.events, part.delivery, job.tenantId, at);
    if (problem) return problem;
  }
  return undefined;
}

/** The first event of the job (its frame checked) that is not as the normalizer makes them, named by its request's delivery id and its place. */
export function jobEventsProblem(job: IngestJob): string | undefined {
  if (!isGatheredJob(job)) return eventsProblem(job.events);
  for (const [index, part] of job.parts.entries()) {
    const problem = eventsProblem(part.events);
    if (problem) return `parts[${index}] (delivery ${part.delivery.id}).${problem}`;
  }
  return undefined;
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
