/**
 * The ingest contract, free of Koa: check the token, parse and normalize the body, enqueue what is valid,
 * say exactly what was accepted and rejected, and leave a delivery-log record of every answer to a known tenant.
 */
import type { TenantDirectory } from '../tenants/directory';
import type { EnqueueResult } from '../queue/enqueue';
import type { JobGatherer } from '../queue/jobGatherer';
import { BodyError, normalizeBody, NormalizedBody, NormalizeOptions, Rejection, TooManyEventsError } from '../normalize/normalizeBody';
import type { RateLimiter } from './rateLimit';
import type { BodyBudget } from '../http/bodyBudget';
import type { Logger } from '../log';
import type { RepeatedWarning } from '../repeatedWarning';
import type { TenantSettings } from '../tenants/settings';
import type { DeliveryOutbox } from '../queue/deliveryOutbox';
import { DeliveryStart, finishDelivery } from '../deliveries/deliveryRecord';
import type { ReceiverMetrics } from './receiverMetrics';
import { HttpResult } from '../http/result';
import { BodyDecodeError, decodeBody } from './decodeBody';
import { rejectionFields } from '../deliveries/rejectionList';

export interface IngestLimits {
  maxEventBytes: number;
  maxEventsPerRequest: number;
  retryAfterSeconds: number;
}

export interface IngestDeps {
  tenants: TenantDirectory;
  /** Gathers the requests of a tenant into shared jobs (see queue/jobGatherer). */
  gatherer: JobGatherer<EnqueueResult>;
  deliveries: DeliveryOutbox;
  metrics: ReceiverMetrics;
  limits: IngestLimits;
  /** BODY_MEMORY_BUDGET_BYTES: the request bodies this process holds at once. */
  bodyBudget: BodyBudget;
  /** RATE_LIMIT_PER_TENANT; absent: no limit. */
  rateLimiter?: RateLimiter;
  log: Logger;
  /** Said once per few seconds while Redis is down, with a count, instead of once per refused request. */
  queueDownWarning: RepeatedWarning;
}

export interface AuthorizedTenant {
  tenantId: number;
  settings: TenantSettings;
}

function refusal(status: number, error: string, rejected: Rejection[] = [], headers?: Record<string, string>): HttpResult {
  return { status, body: { accepted: 0, ...rejectionFields(rejected), error }, headers };
}

/** Resolves the token to an enabled tenant, or the refusal to send (recording a refused delivery of a known tenant). */
export async function authorizeTenant(deps: IngestDeps, token: string | undefined, delivery: DeliveryStart): Promise<AuthorizedTenant | HttpResult> {
  if (!token) return refusal(401, 'missing tenant token: put it in the URL path or send "Authorization: Bearer TOKEN"');
  const check = await deps.tenants.check(token);
  switch (check.status) {
    case 'ok':
      return rateLimited(deps, check.tenantId, delivery) ?? { tenantId: check.tenantId, settings: check.settings };
    case 'disabled':
      return recordRefusal(deps, check.tenantId, delivery, refusal(403, 'tenant is disabled'));
    case 'unavailable':
      return unavailable(deps, 'tenants could not be loaded from the database yet');
    case 'unknown':
      return refusal(401, 'unknown tenant token');
  }
}

/** The 429 to send when the tenant is over RATE_LIMIT_PER_TENANT in this process, checked before the body is read. */
export function rateLimited(deps: IngestDeps, tenantId: number, delivery: DeliveryStart): HttpResult | undefined {
  const decision = deps.rateLimiter?.take(tenantId);
  if (!decision || decision.allowed) return undefined;
  const result = refusal(429, `too many requests for this tenant (RATE_LIMIT_PER_TENANT); nothing was accepted, retry after ${decision.retryAfterSeconds} s`, [], {
    'Retry-After': String(decision.retryAfterSeconds),
  });
  return recordRefusal(deps, tenantId, delivery, result);
}

function unavailable(deps: IngestDeps, reason: string): HttpResult {
  return refusal(503, `${reason}; nothing was accepted, retry later`, [], { 'Retry-After': String(deps.limits.retryAfterSeconds) });
}

/** Records an answer that queued no job, and passes it through. */
export function recordRefusal(deps: IngestDeps, tenantId: number, delivery: DeliveryStart, result: HttpResult, rejected: Rejection[] = []): HttpResult {
  deps.deliveries.record(finishDelivery(delivery, tenantId, result.status, 0, rejected));
  return result;
}

/** What became of an enqueue: `queued` (Redis acknowledged the job holding the events), or why none of them is stored. */
export type QueueOutcome = { queued: true } | { queued: false; result: UnqueuedResult };

/** Why a request's events are not queued. */
export type UnqueuedResult = Exclude<EnqueueResult, { outcome: 'queued' }>;

/** The 503's reason, in the words a sender needs. */
export function unqueuedReason(result: UnqueuedResult): string {
  return result.outcome === 'withdrawn' ? `${result.reason}; none of the events is stored, resend them` : 'the queue (Redis) is unavailable; nothing was accepted, retry later';
}

/**
 * Hands the valid events of a normalized body, with their delivery record, to the job gatherer, and waits for the
 * job holding them; when it is not queued, the refusal is recorded instead. Shared by every ingest endpoint.
 */
export async function queueAccepted(deps: IngestDeps, tenantId: number, delivery: DeliveryStart, normalized: NormalizedBody, acceptedStatus: number, bodyBytes: number): Promise<QueueOutcome> {
  const record = finishDelivery(delivery, tenantId, acceptedStatus, normalized.events.length, normalized.rejected);
  const part = { receivedAt: delivery.receivedAt, events: normalized.events, delivery: { id: record.id, indexes: normalized.indexes, record } };
  const result = await deps.gatherer.submit(tenantId, part, bodyBytes);
  if (result.outcome !== 'queued') {
    deps.queueDownWarning({ reason: result.reason, tenantId });
    deps.deliveries.record({ ...record, status: 503, accepted: 0 });
    return { queued: false, result };
  }
  deps.metrics.countEvents(normalized);
  return { queued: true };
}

/** What every ingest route tells the normalizer of one request: the receiver's limits, its time and size, the tenant's settings. */
export function requestLimits(deps: IngestDeps, request: { delivery: DeliveryStart; body: Buffer; settings: TenantSettings }): Omit<NormalizeOptions, 'bulk'> {
  return {
    maxEventBytes: deps.limits.maxEventBytes,
    maxEvents: deps.limits.maxEventsPerRequest,
    receivedAt: request.delivery.receivedAt,
    bodyBytes: request.body.length,
    settings: request.settings,
  };
}

export async function acceptEvents(
  deps: IngestDeps,
  request: { tenant: AuthorizedTenant; body: Buffer; bulk: boolean; delivery: DeliveryStart },
): Promise<HttpResult> {
  const { tenantId } = request.tenant;
  let parsed: unknown;
  try {
    parsed = JSON.parse(decodeBody(request.body));
  } catch (error) {
    const reason = error instanceof BodyDecodeError ? error.message : `body is not valid JSON: ${(error as Error).message}`;
    return recordRefusal(deps, tenantId, request.delivery, refusal(400, reason));
  }
  let normalized: NormalizedBody;
  try {
    normalized = normalizeBody(parsed, { bulk: request.bulk, ...requestLimits(deps, { ...request, settings: request.tenant.settings }) });
  } catch (error) {
    if (error instanceof TooManyEventsError) return recordRefusal(deps, tenantId, request.delivery, refusal(413, error.message));
    if (error instanceof BodyError) return recordRefusal(deps, tenantId, request.delivery, refusal(400, error.message));
    throw error;
  }
  const { events, rejected } = normalized;
  if (events.length === 0) {
    deps.metrics.countEvents(normalized);
    const tooLarge = normalized.total === 1 && normalized.oversized.length === 1;
    const result = tooLarge ? refusal(413, rejected[0].error, rejected) : refusal(400, 'no valid event in body', rejected);
    return recordRefusal(deps, tenantId, request.delivery, result, rejected);
  }
  const queued = await queueAccepted(deps, tenantId, request.delivery, normalized, 202, request.body.length);
  if (!queued.queued) return refusal(503, unqueuedReason(queued.result), [], { 'Retry-After': String(deps.limits.retryAfterSeconds) });
  return { status: 202, body: { accepted: events.length, ...rejectionFields(rejected) } };
}
