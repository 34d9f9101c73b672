// When a failed provider call moves on to another attempt, and how long to wait before it.
import type { CircuitBreakerSettings } from './target-health';

export const RETRY_CONDITIONS = ['connect_error', 'timeout', 'rate_limited', 'server_error'] as const;
export type RetryCondition = (typeof RETRY_CONDITIONS)[number];

export interface RetryPolicy {
  retryOn: ReadonlySet<RetryCondition>;
  retryOnStatus: ReadonlySet<number>;
  maxAttempts: number;
  backoffInitialMs: number;
  backoffMaxMs: number;
  /** For all attempts together, until the first byte reaches the client. */
  deadlineMs: number;
  circuitBreaker: CircuitBreakerSettings;
}

/** The condition a provider status falls under, if any. */
export function conditionOfStatus(status: number): RetryCondition | null {
  if (status === 429) return 'rate_limited';
  if (status >= 500) return 'server_error';
  return null;
}

export function shouldRetryStatus(policy: RetryPolicy, status: number): boolean {
  const condition = conditionOfStatus(status);
  return policy.retryOnStatus.has(status) || (condition !== null && policy.retryOn.has(condition));
}

/** Exponential backoff with full jitter: a random wait up to initial * 2^(n-1), capped. `random` in [0, 1). */
export function backoffDelay(policy: RetryPolicy, repeatNumber: number, random = Math.random()): number {
  const ceiling = Math.min(policy.backoffMaxMs, policy.backoffInitialMs * 2 ** Math.max(0, repeatNumber - 1));
  return Math.floor(random * ceiling);
}

/** Retry-After as seconds or an HTTP date, in ms; null when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | null {
  if (value === undefined || value.trim() === '') return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}
