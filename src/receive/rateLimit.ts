/**
 * A per-tenant request rate limit (RATE_LIMIT_PER_TENANT), per receiver process: a token bucket that holds one
 * second's worth of requests, so short bursts pass and a steady flood is refused with the wait until the next
 * request would pass. Keys are tenant ids that already passed the token check, so the map cannot grow without bound.
 */
export type RateDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

export interface RateLimiter {
  take(tenantId: number, now?: number): RateDecision;
}

/** `perSecond` 0: every request passes. */
export function createRateLimiter(perSecond: number): RateLimiter {
  const buckets = new Map<number, { tokens: number; updatedAt: number }>();
  return {
    take(tenantId, now = Date.now()) {
      if (perSecond <= 0) return { allowed: true };
      const bucket = buckets.get(tenantId) ?? { tokens: perSecond, updatedAt: now };
      bucket.tokens = Math.min(perSecond, bucket.tokens + ((now - bucket.updatedAt) / 1000) * perSecond);
      bucket.updatedAt = now;
      buckets.set(tenantId, bucket);
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return { allowed: true };
      }
      // Retry-After is in whole seconds; round up so a client that waits as told is let through.
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / perSecond)) };
    },
  };
}
