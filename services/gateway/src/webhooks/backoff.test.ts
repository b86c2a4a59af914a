import { afterFailure, backoffDelayMs, retrySchedule, type RetryPolicy } from './backoff';

const policy: RetryPolicy = { baseDelayMs: 1_000, maxDelayMs: 10_000, maxAttempts: 6, attemptTimeoutMs: 500 };
const now = new Date('2026-01-01T00:00:00Z');

describe('backoff', () => {
  it('doubles from the base delay and stops at the maximum', () => {
    expect(retrySchedule(policy)).toEqual([1_000, 2_000, 4_000, 8_000, 10_000]);
    expect(backoffDelayMs(1, policy)).toBe(1_000);
    expect(backoffDelayMs(500, policy)).toBe(10_000);
  });

  it('retries until the last attempt, then the delivery is dead', () => {
    expect(afterFailure(1, policy, { now, random: () => 0 })).toEqual({
      kind: 'retry',
      at: new Date(now.getTime() + 1_000),
    });
    expect(afterFailure(5, policy, { now, random: () => 0 })).toEqual({
      kind: 'retry',
      at: new Date(now.getTime() + 10_000),
    });
    expect(afterFailure(6, policy, { now })).toEqual({ kind: 'dead' });
    expect(afterFailure(1, { ...policy, maxAttempts: 1 }, { now })).toEqual({ kind: 'dead' });
  });

  it('takes at most a tenth off each delay at random', () => {
    const at = (random: number) => {
      const step = afterFailure(3, policy, { now, random: () => random });
      return step.kind === 'retry' ? step.at.getTime() - now.getTime() : -1;
    };
    expect(at(0)).toBe(4_000);
    expect(at(0.999)).toBeGreaterThanOrEqual(3_600);
    expect(at(0.5)).toBe(3_800);
  });
});
