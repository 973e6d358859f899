/**
 * Amplitude's HTTP V2 API (POST /2/httpapi and /batch), free of Koa: {"api_key", "events", "options"} in,
 * Amplitude's documented response shapes out, so Amplitude's SDKs can send here unchanged. As at Amplitude, a
 * request with any invalid event is refused whole (400, with the invalid events' indexes by field); the SDKs drop
 * those and send the rest again.
 */
import { BodyError, normalizeBody, NormalizedBody, TooManyEventsError } from '../normalize/normalizeBody';
import { describe, isPlainObject } from '../normalize/fields';
import { IngestDeps, queueAccepted, rateLimited, recordRefusal, requestLimits, UnqueuedResult, unqueuedReason } from './ingestRequest';
import type { DeliveryStart } from '../deliveries/deliveryRecord';
import type { HttpResult } from '../http/result';
import { decodeBody } from './decodeBody';
import { rejectionFields } from '../deliveries/rejectionList';
import { ApiKeyScanner, createApiKeyScanner } from './apiKeyScanner';
import { EarlyAnswer } from '../http/readBody';
import type { TenantSettings } from '../tenants/settings';

export function amplitudeError(status: number, error: string, extra: Record<string, unknown> = {}, headers?: Record<string, string>): HttpResult {
  return { status, body: { code: status, error, ...extra }, headers };
}

export function payloadTooLarge(detail?: string): HttpResult {
  return amplitudeError(413, 'Payload too large', detail === undefined ? {} : { detail });
}

/** Amplitude's own body limits (after decompression): 1 MB on the HTTP V2 API and the Identify APIs, 20 MB on the Batch API. */
const AMPLITUDE_BODY_LIMITS = {
  httpapi: { maxBytes: 1024 * 1024, limitName: "Amplitude's HTTP V2 API limit" },
  batch: { maxBytes: 20 * 1024 * 1024, limitName: "Amplitude's Batch API limit" },
  identify: { maxBytes: 1024 * 1024, limitName: "Amplitude's Identify API limit" },
  groupidentify: { maxBytes: 1024 * 1024, limitName: "Amplitude's Group Identify API limit" },
};

/** The body limit of an Amplitude route: Amplitude's own, or MAX_BODY_BYTES when that is lower. */
export function httpApiBodyLimit(endpoint: keyof typeof AMPLITUDE_BODY_LIMITS, maxBodyBytes: number): { maxBytes: number; limitName: string } {
  const own = AMPLITUDE_BODY_LIMITS[endpoint];
  return own.maxBytes <= maxBodyBytes ? own : { maxBytes: maxBodyBytes, limitName: 'MAX_BODY_BYTES' };
}

export type KeyCheck = { tenantId: number; settings: TenantSettings } | HttpResult;

/** The tenant of an API key, or the refusal to send (recorded when the tenant is known). */
export async function checkApiKey(deps: IngestDeps, key: string, delivery: DeliveryStart): Promise<KeyCheck> {
  const check = await deps.tenants.check(key);
  switch (check.status) {
    case 'ok':
      return { tenantId: check.tenantId, settings: check.settings };
    case 'unknown':
      return amplitudeError(400, 'Invalid API key');
    case 'disabled':
      return recordRefusal(deps, check.tenantId, delivery, amplitudeError(403, 'Forbidden', { detail: 'tenant is disabled' }));
    case 'unavailable':
      return unavailable(deps);
  }
}

export const isRefusal = (check: KeyCheck): check is HttpResult => 'status' in check;

/** With `Authorization: Bearer KEY` the key is known before the body: a refusal to send at once, or undefined to read on. */
export async function refuseHeaderKey(deps: IngestDeps, key: string, delivery: DeliveryStart): Promise<HttpResult | undefined> {
  const check = await checkApiKey(deps, key, delivery);
  return isRefusal(check) ? check : undefined;
}

/**
 * An `inspect` for readBody: scans the arriving bytes for the top-level "api_key" and checks it as soon as it is
 * seen, so a wrong key is refused (EarlyAnswer) without reading or parsing the rest. A known key only lets the read
 * go on; the full parse checks the key again and decides.
 */
export function apiKeyGate(deps: IngestDeps, delivery: DeliveryStart, scanner: ApiKeyScanner = createApiKeyScanner()): (chunk: Buffer) => Promise<void> {
  let decided = false;
  return async (chunk) => {
    if (decided) return;
    const scan = scanner.feed(chunk);
    if (scan.status === 'searching') return;
    decided = true;
    if (scan.status !== 'found') return;
    const check = await checkApiKey(deps, scan.key, delivery);
    if (isRefusal(check)) throw new EarlyAnswer(check);
  };
}

/** `headerKey`: the key from `Authorization: Bearer`, already checked; it stands in for a missing `api_key`, and the body's `api_key` wins when both are given. */
/** The body as a JSON object, or Amplitude's 400 for one that is not: tagged, since a body may hold any key. */
export function jsonObjectBody(body: Buffer): { object: Record<string, unknown> } | { refusal: HttpResult } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(decodeBody(body));
  } catch (error) {
    return { refusal: amplitudeError(400, 'Invalid JSON request body', { detail: (error as Error).message }) };
  }
  if (!isPlainObject(parsed)) return { refusal: amplitudeError(400, 'Invalid JSON request body', { detail: `body must be an object, got ${describe(parsed)}` }) };
  return { object: parsed };
}

export async function acceptHttpApiRequest(deps: IngestDeps, body: Buffer, delivery: DeliveryStart, headerKey?: string): Promise<HttpResult> {
  const read = jsonObjectBody(body);
  if ('refusal' in read) return read.refusal;
  const parsed = read.object;
  const key = parsed.api_key === undefined ? headerKey : parsed.api_key;
  if (typeof key !== 'string' || key === '') return amplitudeError(400, 'Request missing required field', { missing_field: 'api_key' });
  if (!Array.isArray(parsed.events) || parsed.events.length === 0) return amplitudeError(400, 'Request missing required field', { missing_field: 'events' });

  const check = await checkApiKey(deps, key, delivery);
  if (isRefusal(check)) return check;
  const limited = amplitudeRateLimited(deps, check.tenantId, delivery);
  if (limited) return limited;

  let normalized;
  try {
    normalized = normalizeBody(parsed.events, { bulk: false, amplitudeOnly: true, ...requestLimits(deps, { delivery, body, settings: check.settings }) });
  } catch (error) {
    if (error instanceof TooManyEventsError) return recordRefusal(deps, check.tenantId, delivery, amplitudeError(413, 'Payload too large', { detail: error.message }));
    if (error instanceof BodyError) return recordRefusal(deps, check.tenantId, delivery, amplitudeError(400, 'Invalid event JSON', { detail: error.message }));
    throw error;
  }
  if (normalized.oversized.length > 0) return recordRefusal(deps, check.tenantId, delivery, payloadTooLarge(), normalized.rejected);
  if (normalized.rejected.length > 0) return refuseInvalidEvents(deps, check.tenantId, delivery, normalized);
  const queued = await queueAccepted(deps, check.tenantId, delivery, normalized, 200, body.length);
  if (!queued.queued) return unqueued(deps, queued.result);
  return {
    status: 200,
    body: { code: 200, events_ingested: normalized.events.length, payload_size_bytes: body.length, server_upload_time: Date.now() },
  };
}

/** Amplitude's 400 for a request with invalid events, refused whole: their indexes by field, missing or invalid. */
export function refuseInvalidEvents(deps: IngestDeps, tenantId: number, delivery: DeliveryStart, normalized: Pick<NormalizedBody, 'rejected' | 'refusedFields'>): HttpResult {
  const missing: Record<string, number[]> = {};
  const invalid: Record<string, number[]> = {};
  for (const { index, field, missing: isMissing } of normalized.refusedFields) {
    const group = isMissing ? missing : invalid;
    (group[field] ??= []).push(index);
  }
  deps.metrics.countEvents({ ...normalized, events: [] });
  const result = amplitudeError(400, Object.keys(invalid).length > 0 ? 'Invalid field values on some events' : 'Request missing required field', {
    events_with_invalid_fields: invalid,
    events_with_missing_fields: missing,
    ...rejectionFields(normalized.rejected),
  });
  return recordRefusal(deps, tenantId, delivery, result, normalized.rejected);
}

/** Amplitude's 429 when the tenant is over RATE_LIMIT_PER_TENANT, or undefined. */
export function amplitudeRateLimited(deps: IngestDeps, tenantId: number, delivery: DeliveryStart): HttpResult | undefined {
  const limited = rateLimited(deps, tenantId, delivery);
  return limited && amplitudeError(429, 'Too many requests', { detail: (limited.body as { error: string }).error }, limited.headers);
}

/** Amplitude's 503 for events the queue did not acknowledge. */
export function unqueued(deps: IngestDeps, result: UnqueuedResult): HttpResult {
  return amplitudeError(503, `Service unavailable: ${unqueuedReason(result)}`, {}, { 'Retry-After': String(deps.limits.retryAfterSeconds) });
}

function unavailable(deps: IngestDeps): HttpResult {
  return amplitudeError(503, 'Service unavailable: the queue is down; nothing was accepted, retry later', {}, { 'Retry-After': String(deps.limits.retryAfterSeconds) });
}
