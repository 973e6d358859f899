/**
 * Amplitude's HTTP V2 API (POST /2/httpapi and /batch), free of Koa: {"api_key", "events", "options"} in,
 * Amplitude's documented response shapes out, so Amplitude's SDKs can send here unchanged. As at Amplitude, a
 * request with any invalid event is refused whole (400, with the invalid events' indexes by field); the SDKs drop
 * those and send the rest again.
 */
import { BodyError, normalizeBody, TooManyEventsError } from '../normalize/normalizeBody';
import { describe, isPlainObject } from '../normalize/fields';
import { IngestDeps, queueAccepted, rateLimited, recordRefusal } from './ingestRequest';
import type { DeliveryStart } from '../deliveries/deliveryRecord';
import type { HttpResult } from './httpResult';
import { decodeBody } from './decodeBody';

function amplitudeError(status: number, error: string, extra: Record<string, unknown> = {}, headers?: Record<string, string>): HttpResult {
  return { status, body: { code: status, error, ...extra }, headers };
}

export function payloadTooLarge(): HttpResult {
  return amplitudeError(413, 'Payload too large');
}

export async function acceptHttpApiRequest(deps: IngestDeps, body: Buffer, delivery: DeliveryStart): Promise<HttpResult> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(decodeBody(body));
  } catch (error) {
    return amplitudeError(400, 'Invalid JSON request body', { detail: (error as Error).message });
  }
  if (!isPlainObject(parsed)) return amplitudeError(400, 'Invalid JSON request body', { detail: `body must be an object, got ${describe(parsed)}` });
  if (typeof parsed.api_key !== 'string' || parsed.api_key === '') return amplitudeError(400, 'Request missing required field', { missing_field: 'api_key' });
  if (!Array.isArray(parsed.events) || parsed.events.length === 0) return amplitudeError(400, 'Request missing required field', { missing_field: 'events' });

  const check = await deps.tenants.check(parsed.api_key);
  if (check.status === 'unknown') return amplitudeError(400, 'Invalid API key');
  if (check.status === 'disabled') return recordRefusal(deps, check.tenantId, delivery, amplitudeError(403, 'Forbidden', { detail: 'tenant is disabled' }));
  if (check.status === 'unavailable') return unavailable(deps);
  const limited = rateLimited(deps, check.tenantId, delivery);
  if (limited) return amplitudeError(429, 'Too many requests', { detail: (limited.body as { error: string }).error }, limited.headers);

  let normalized;
  try {
    normalized = normalizeBody(parsed.events, {
      bulk: false,
      amplitudeOnly: true,
      maxEventBytes: deps.limits.maxEventBytes,
      maxEvents: deps.limits.maxEventsPerRequest,
      receivedAt: delivery.receivedAt,
      bodyBytes: body.length,
      settings: check.settings,
    });
  } catch (error) {
    if (error instanceof TooManyEventsError) return recordRefusal(deps, check.tenantId, delivery, amplitudeError(413, 'Payload too large', { detail: error.message }));
    if (error instanceof BodyError) return recordRefusal(deps, check.tenantId, delivery, amplitudeError(400, 'Invalid event JSON', { detail: error.message }));
    throw error;
  }
  if (normalized.oversized.length > 0) return recordRefusal(deps, check.tenantId, delivery, payloadTooLarge(), normalized.rejected);
  if (normalized.rejected.length > 0) {
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
      rejected: normalized.rejected,
    });
    return recordRefusal(deps, check.tenantId, delivery, result, normalized.rejected);
  }
  if ((await queueAccepted(deps, check.tenantId, delivery, normalized, 200)) === 'unavailable') return unavailable(deps);
  return {
    status: 200,
    body: { code: 200, events_ingested: normalized.events.length, payload_size_bytes: body.length, server_upload_time: Date.now() },
  };
}

function unavailable(deps: IngestDeps): HttpResult {
  return amplitudeError(503, 'Service unavailable: the queue is down; nothing was accepted, retry later', {}, { 'Retry-After': String(deps.limits.retryAfterSeconds) });
}
