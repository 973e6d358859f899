/**
 * The ingest contract, free of Koa: check the token, parse and normalize the body, enqueue what is valid,
 * and say exactly what was accepted and rejected.
 */
import type { Queue } from 'bullmq';
import type { TenantDirectory } from '../tenants/directory';
import type { IngestJob } from '../queue/ingestQueue';
import { enqueueEvents, QueueUnavailableError } from '../queue/enqueue';
import { BodyError, normalizeBody, Rejection, TooManyEventsError } from '../normalize/normalizeBody';
import type { RateLimiter } from './rateLimit';
import type { Logger } from '../log';
import type { TenantSettings } from '../tenants/settings';
import { HttpResult } from './httpResult';

export interface IngestLimits {
  maxEventBytes: number;
  maxEventsPerRequest: number;
  jobMaxEvents: number;
  enqueueTimeoutMs: number;
  retryAfterSeconds: number;
}

export interface IngestDeps {
  tenants: TenantDirectory;
  queue: Queue<IngestJob>;
  limits: IngestLimits;
  /** RATE_LIMIT_PER_TENANT; absent: no limit. */
  rateLimiter?: RateLimiter;
  log: Logger;
}

function refusal(status: number, error: string, rejected: Rejection[] = [], headers?: Record<string, string>): HttpResult {
  return { status, body: { accepted: 0, rejected, error }, headers };
}

/** Resolves the token to an enabled tenant, or the refusal to send. */
export interface AuthorizedTenant {
  tenantId: number;
  settings: TenantSettings;
}

export async function authorizeTenant(deps: IngestDeps, token: string | undefined): Promise<AuthorizedTenant | HttpResult> {
  if (!token) return refusal(401, 'missing tenant token: put it in the URL path or send "Authorization: Bearer TOKEN"');
  const check = await deps.tenants.check(token);
  switch (check.status) {
    case 'ok':
      return rateLimited(deps, check.tenantId) ?? { tenantId: check.tenantId, settings: check.settings };
    case 'disabled':
      return refusal(403, 'tenant is disabled');
    case 'unavailable':
      return unavailable(deps, 'tenants could not be loaded from the database yet');
    case 'unknown':
      return refusal(401, 'unknown tenant token');
  }
}

/** The 429 to send when the tenant is over RATE_LIMIT_PER_TENANT in this process, checked before the body is read. */
export function rateLimited(deps: IngestDeps, tenantId: number): HttpResult | undefined {
  const decision = deps.rateLimiter?.take(tenantId);
  if (!decision || decision.allowed) return undefined;
  return refusal(429, `too many requests for this tenant (RATE_LIMIT_PER_TENANT); nothing was accepted, retry after ${decision.retryAfterSeconds} s`, [], {
    'Retry-After': String(decision.retryAfterSeconds),
  });
}

function unavailable(deps: IngestDeps, reason: string): HttpResult {
  return refusal(503, `${reason}; nothing was accepted, retry later`, [], { 'Retry-After': String(deps.limits.retryAfterSeconds) });
}

export async function acceptEvents(
  deps: IngestDeps,
  request: { tenant: AuthorizedTenant; body: Buffer; bulk: boolean; receivedAt: number },
): Promise<HttpResult> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(request.body.toString('utf8'));
  } catch (error) {
    return refusal(400, `body is not valid JSON: ${(error as Error).message}`);
  }
  let normalized;
  try {
    normalized = normalizeBody(parsed, {
      bulk: request.bulk,
      maxEventBytes: deps.limits.maxEventBytes,
      maxEvents: deps.limits.maxEventsPerRequest,
      receivedAt: request.receivedAt,
      bodyBytes: request.body.length,
      settings: request.tenant.settings,
    });
  } catch (error) {
    if (error instanceof TooManyEventsError) return refusal(413, error.message);
    if (error instanceof BodyError) return refusal(400, error.message);
    throw error;
  }
  const { events, rejected } = normalized;
  if (events.length === 0) {
    if (normalized.total === 1 && normalized.oversized.length === 1) return refusal(413, rejected[0].error, rejected);
    return refusal(400, 'no valid event in body', rejected);
  }
  try {
    await enqueueEvents(deps.queue, { tenantId: request.tenant.tenantId, receivedAt: request.receivedAt, events }, {
      jobMaxEvents: deps.limits.jobMaxEvents,
      timeoutMs: deps.limits.enqueueTimeoutMs,
    });
  } catch (error) {
    if (!(error instanceof QueueUnavailableError)) throw error;
    deps.log.warn({ err: error, tenantId: request.tenant.tenantId, events: events.length }, 'queue unavailable; answered 503');
    return unavailable(deps, 'the queue (Redis) is unavailable');
  }
  return { status: 202, body: { accepted: events.length, rejected } };
}
