// When a failed attempt is tried again, and when a run is given up: pure,
// the random source passed in, so tests pin the jitter.

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  /** A run is not tried later than this after it was queued. */
  maxAgeMs: number;
  /** The wait after the first failure; doubled after each further one. */
  initialBackoffMs: number;
  /** The longest wait between two attempts. */
  maxBackoffMs: number;
}

/**
 * The wait after attempt `attempt` (1-based) failed: exponential, capped, with
 * "equal jitter" (half fixed, half random), so receivers that come back are
 * not hit by every sender at the same instant, yet a wait never collapses to 0.
 */
export function backoffMs(attempt: number, policy: Pick<RetryPolicy, 'initialBackoffMs' | 'maxBackoffMs'>, random: () => number = Math.random): number {
  const exponent = Math.min(Math.max(attempt - 1, 0), 30);
  const base = Math.min(policy.maxBackoffMs, policy.initialBackoffMs * 2 ** exponent);
  return Math.round(base / 2 + (base / 2) * random());
}

export type RetryDecision = { retry: true; at: number } | { retry: false; detail: string };

/** After attempt `attempt` of a run queued at `createdAt` failed at `now` (retryable): again, or give up. */
export function nextAttempt(attempt: number, createdAt: number, now: number, policy: RetryPolicy, random: () => number = Math.random): RetryDecision {
  if (attempt >= policy.maxAttempts) return { retry: false, detail: `gave up after ${attempt} attempt${attempt === 1 ? '' : 's'} (maxAttempts ${policy.maxAttempts})` };
  const at = now + backoffMs(attempt, policy, random);
  if (at - createdAt > policy.maxAgeMs) return { retry: false, detail: `gave up after ${attempt} attempt${attempt === 1 ? '' : 's'}: the next would pass maxAge ${policy.maxAgeMs} ms` };
  return { retry: true, at };
}
