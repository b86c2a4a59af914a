/** The verdict for one request, with what the RateLimit headers report. */
export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until the bucket is full again. */
  resetSeconds: number;
  /** When refused: seconds until one request is allowed. */
  retryAfterSeconds: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * A token bucket per credential: `perMinute` requests a minute on average, bursts up to a sixth of that (at least
 * 10). Buckets live in the replica's memory, so with N replicas behind a balancer a key gets up to N times its
 * limit in the worst case; the limit protects the services, not a billing quota.
 */
export function createRateLimiter(options: { now?: () => number; maxKeys?: number } = {}) {
  const now = options.now ?? (() => Date.now());
  const maxKeys = options.maxKeys ?? 100_000;
  const buckets = new Map<string, Bucket>();

  return {
    take(key: string, perMinute: number): RateDecision {
      const capacity = Math.max(10, Math.ceil(perMinute / 6));
      const perMs = perMinute / 60_000;
      const t = now();
      let bucket = buckets.get(key);
      if (!bucket) {
        if (buckets.size >= maxKeys) {
          // Forget the oldest-touched buckets: a forgotten key starts full, which errs towards serving.
          const oldest = buckets.keys().next().value;
          if (oldest !== undefined) buckets.delete(oldest);
        }
        bucket = { tokens: capacity, at: t };
      } else {
        buckets.delete(key); // re-insert below: the map's order is least recently used first
        bucket.tokens = Math.min(capacity, bucket.tokens + (t - bucket.at) * perMs);
        bucket.at = t;
      }
      buckets.set(key, bucket);
      const allowed = bucket.tokens >= 1;
      if (allowed) bucket.tokens -= 1;
      return {
        allowed,
        limit: capacity,
        remaining: Math.floor(bucket.tokens),
        resetSeconds: Math.ceil((capacity - bucket.tokens) / perMs / 1000),
        retryAfterSeconds: allowed ? 0 : Math.max(1, Math.ceil((1 - bucket.tokens) / perMs / 1000)),
      };
    },
    size: () => buckets.size,
  };
}

export type RateLimiter = ReturnType<typeof createRateLimiter>;
