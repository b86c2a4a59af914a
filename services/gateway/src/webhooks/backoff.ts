// The retry schedule of a failing delivery: exponential (factor 2) from a base delay, capped, with a little jitter
// so the deliveries queued while a receiver was down do not all come back in the same instant.

/** How deliveries are retried. */
export interface RetryPolicy {
  /** Delay after the first failed attempt. */
  baseDelayMs: number;
  /** No delay is longer than this. */
  maxDelayMs: number;
  /** Attempts in all (the first included); after the last failed one the delivery is DEAD. */
  maxAttempts: number;
  /** One attempt's time limit (connection, request and response headers). */
  attemptTimeoutMs: number;
}

/** Up to this fraction of each delay is taken off at random. */
export const JITTER = 0.1;

/** The delay after `failedAttempts` failures (1 → base, 2 → 2·base, ...), capped, before jitter. */
export function backoffDelayMs(failedAttempts: number, policy: RetryPolicy): number {
  const exponent = Math.max(0, failedAttempts - 1);
  // Capped before multiplying out, so a large attempt count never overflows to Infinity.
  if (exponent >= 52) return policy.maxDelayMs;
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** exponent);
}

/** What happens after a failed attempt: retry at a time, or the delivery is dead. */
export type AfterFailure = { kind: 'retry'; at: Date } | { kind: 'dead' };

/** The step after the `failedAttempts`-th failure at `now`; `random` in [0, 1) picks the jitter. */
export function afterFailure(
  failedAttempts: number,
  policy: RetryPolicy,
  options: { now: Date; random?: () => number },
): AfterFailure {
  if (failedAttempts >= policy.maxAttempts) return { kind: 'dead' };
  const delay = backoffDelayMs(failedAttempts, policy);
  const jittered = Math.round(delay * (1 - JITTER * (options.random ?? Math.random)()));
  return { kind: 'retry', at: new Date(options.now.getTime() + jittered) };
}

/** Every delay of the schedule without jitter, e.g. for documentation: one per retry (maxAttempts - 1). */
export function retrySchedule(policy: RetryPolicy): number[] {
  return Array.from({ length: Math.max(0, policy.maxAttempts - 1) }, (_, i) => backoffDelayMs(i + 1, policy));
}
