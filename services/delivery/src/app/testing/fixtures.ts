// Shared by the domain and use-case tests (not built into dist): a fixed start time and realistic timings.
import type { FulfilmentPolicy } from '../../domain/types';

/** The time tests start at (UTC). */
export const T0 = new Date('2026-11-22T12:00:00.000Z');
export const MIN = 60_000;

/** The production defaults, but a lock after 3 wrong codes and a two-day pick-up. */
export const TEST_POLICY: Readonly<FulfilmentPolicy> = {
  acceptMs: 5 * MIN,
  pickMs: 15 * MIN,
  packMs: 10 * MIN,
  pickupExpiryMs: 48 * 60 * MIN,
  offerTimeoutMs: MIN,
  codeMaxAttempts: 3,
  codeLockMs: 5 * MIN,
  dispatchRetryMs: 30_000,
};
