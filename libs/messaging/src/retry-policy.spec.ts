import { retryDelayMs } from '@keel/messaging';

describe('retryDelayMs', () => {
  const policy = { maxAttempts: 6, initialDelayMs: 100, multiplier: 2, maxDelayMs: 1_000 };

  it('doubles the delay after each failed attempt', () => {
    expect([1, 2, 3, 4].map((attempt) => retryDelayMs(policy, attempt))).toEqual([100, 200, 400, 800]);
  });

  it('never waits longer than the cap', () => {
    expect(retryDelayMs(policy, 5)).toBe(1_000);
    expect(retryDelayMs(policy, 30)).toBe(1_000);
  });
});
