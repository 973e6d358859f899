/**
 * Amplitude's HTTP V2 API (POST /2/httpapi and /batch), free of Koa: {"api_key", "events", "options"} in,
 * Amplitude's documented response shapes out, so Amplitude's SDKs can send here unchanged. As at Amplitude, a
 * request with any invalid event is refused whole (400, with the invalid events' indexes by field); the SDKs drop
 * those and send the rest again.
 */
import { BodyError, normalizeBody, TooManyEventsError } from '../normalize/normalizeBody';
import { IngestDeps, rateLimited } from './ingestRequest';
import { describe, isPlainObject } from '../normalize/fields';
import { enqueueEvents, QueueUnavailableError } from '../queue/enqueue';
import type { HttpResult } from './httpResult';

function amplitudeError(status: number, error: string, extra: Record<string, unknown> = {}, headers?: Record<string, string>): HttpResult {
  return { status, body: { code: status, error, ...extra }, headers };
}

export function payloadTooLarge(): HttpResult {
  return amplitudeError(413, 'Payload too large');
}

export async function acceptHttpApiRequest(deps: IngestDeps, body: Buffer, receivedAt: number): Promise<HttpResult> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (error) {
    return amplitudeError(400, 'Invalid JSON request body', { detail: (error as Error).message });
  }
  if (!isPlainObject(parsed)) return amplitudeError(400, 'Invalid JSON request body', { detail: `body must be an object, got ${describe(parsed)}` });
  if (typeof parsed.api_key !== 'string' || parsed.api_key === '') return amplitudeError(400, 'Request missing required field', { missing_field: 'api_key' });
  if (!Array.isArray(parsed.events) || parsed.events.length === 0) return amplitudeError(400, 'Request missing required field', { missing_field: 'events' });

  const check = await deps.tenants.check(parsed.api_key);
  if (check.status === 'unknown') return amplitudeError(400, 'Invalid API key');
  if (check.status === 'disabled') return amplitudeError(403, 'Forbidden', { detail: 'tenant is disabled' });
  if (check.status === 'unavailable') return unavailable(deps);
  const limited = rateLimited(deps, check.tenantId);
  if (limited) return amplitudeError(429, 'Too many requests', { detail: (limited.body as { error: string }).error }, limited.headers);

  let normalized;
  try {
    normalized = normalizeBody(parsed.events, {
      bulk: false,
      amplitudeOnly: true,
      maxEventBytes: deps.limits.maxEventBytes,
      maxEvents: deps.limits.maxEventsPerRequest,
      receivedAt,
      bodyBytes: body.length,
      settings: check.settings,
    });
  } catch (error) {
    if (error instanceof TooManyEventsError) return amplitudeError(413, 'Payload too large', { detail: error.message });
    if (error instanceof BodyError) return amplitudeError(400, 'Invalid event JSON', { detail: error.message });
    throw error;
  }
  if (normalized.oversized.length > 0) return payloadTooLarge();
  if (normalized.rejected.length > 0) {
    const missing: Record<string, number[]> = {};
    const invalid: Record<string, number[]> = {};
    for (const { index, field, missing: isMissing } of normalized.refusedFields) {
      const group = isMissing ? missing : invalid;
      (group[field] ??= []).push(index);
    }
    return amplitudeError(400, Object.keys(invalid).length > 0 ? 'Invalid field values on some events' : 'Request missing required field', {
      events_with_invalid_fields: invalid,
      events_with_missing_fields: missing,
      rejected: normalized.rejected,
    });
  }
  try {
    await enqueueEvents(deps.queue, { tenantId: check.tenantId, receivedAt, events: normalized.events }, {
      jobMaxEvents: deps.limits.jobMaxEvents,
      timeoutMs: deps.limits.enqueueTimeoutMs,
    });
  } catch (error) {
    if (!(error instanceof QueueUnavailableError)) throw error;
    deps.log.warn({ err: error, tenantId: check.tenantId }, 'queue unavailable; answered 503');
    return unavailable(deps);
  }
  return {
    status: 200,
    body: { code: 200, events_ingested: normalized.events.length, payload_size_bytes: body.length, server_upload_time: Date.now() },
  };
}

function unavailable(deps: IngestDeps): HttpResult {
  return amplitudeError(503, 'Service unavailable: the queue is down; nothing was accepted, retry later', {}, { 'Retry-After': String(deps.limits.retryAfterSeconds) });
}
