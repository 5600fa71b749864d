// When a failed delivery is tried again: exponential back-off with jitter, for a bounded time
// after the delivery was (re)queued; then it fails for good. Pure: the caller passes the clock
// and the random draw.

export interface RetryPolicy {
  /** Delay before the 2nd attempt; each later one doubles it. */
  baseMs: number;
  /** No single wait is longer than this. */
  maxDelayMs: number;
  /** Give up once this long has passed since the delivery was queued. */
  retryForMs: number;
}

/**
 * The wait after `attempts` failed attempts (1, 2, …): base·2^(attempts−1), capped, with
 * "equal jitter" (half fixed, half random) so receivers recovering from an outage are not hit
 * by every sender at the same instant. `random` is in [0, 1).
 */
export function retryDelayMs(attempts: number, policy: RetryPolicy, random: number): number {
  const exp = Math.min(policy.maxDelayMs, policy.baseMs * 2 ** Math.min(Math.max(attempts - 1, 0), 40));
  return Math.round(exp / 2 + (exp / 2) * random);
}

/** When the next attempt is due, or null when the delivery has been retried long enough. */
export function nextAttemptAt(attempts: number, queuedAt: Date, now: Date, policy: RetryPolicy, random: number): Date | null {
  const giveUpAt = queuedAt.getTime() + policy.retryForMs;
  if (now.getTime() >= giveUpAt) return null;
  return new Date(Math.min(now.getTime() + retryDelayMs(attempts, policy, random), giveUpAt));
}
