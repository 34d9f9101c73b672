// Process-wide health of each provider target: in-flight calls, latency EWMA and its circuit breaker.

export interface CircuitBreakerSettings {
  /** Consecutive failures that open the circuit. */
  failureThreshold: number;
  /** How long an open circuit keeps the target out, in ms; then one probe may go through (half-open). */
  openMs: number;
}

export interface TargetHealth {
  inFlight: number;
  /** Exponentially weighted moving average of time to response headers, ms; null until measured. */
  latencyEwmaMs: number | null;
  consecutiveFailures: number;
  /** Until when the target is kept out (circuit open, or a provider's Retry-After). */
  openUntil: number;
  /** A half-open probe is under way: no other request may use the target until it ends. */
  probing: boolean;
}

/** Weight of the newest latency sample in the EWMA. */
const EWMA_WEIGHT = 0.3;

const healthByTarget = new Map<string, TargetHealth>();

export function healthOf(targetKey: string): TargetHealth {
  let health = healthByTarget.get(targetKey);
  if (!health) {
    health = { inFlight: 0, latencyEwmaMs: null, consecutiveFailures: 0, openUntil: 0, probing: false };
    healthByTarget.set(targetKey, health);
  }
  return health;
}

export type CircuitState = 'closed' | 'open' | 'half-open';

export function circuitState(health: TargetHealth, now = Date.now()): CircuitState {
  if (health.openUntil === 0) return 'closed';
  return now < health.openUntil ? 'open' : 'half-open';
}

/** May a request use this target now? A half-open target admits one probe at a time. */
export function admits(health: TargetHealth, now = Date.now()): boolean {
  const state = circuitState(health, now);
  return state === 'closed' || (state === 'half-open' && !health.probing);
}

/** Marks the start of a call; on a half-open target this call is the probe. */
export function beginCall(health: TargetHealth, now = Date.now()): void {
  health.inFlight += 1;
  if (circuitState(health, now) === 'half-open') health.probing = true;
}

export function recordSuccess(health: TargetHealth, latencyMs: number): void {
  health.latencyEwmaMs = health.latencyEwmaMs === null ? latencyMs : EWMA_WEIGHT * latencyMs + (1 - EWMA_WEIGHT) * health.latencyEwmaMs;
  health.consecutiveFailures = 0;
  health.openUntil = 0;
  health.probing = false;
}

/**
 * A failed call. The circuit opens after `failureThreshold` consecutive failures, or at once when the
 * provider said how long to stay away (429 Retry-After); a failed probe re-opens it.
 */
export function recordFailure(health: TargetHealth, settings: CircuitBreakerSettings, now = Date.now(), stayAwayMs: number | null = null): void {
  health.consecutiveFailures += 1;
  const wasProbe = health.probing;
  health.probing = false;
  if (stayAwayMs !== null) health.openUntil = Math.max(health.openUntil, now + stayAwayMs);
  if (wasProbe || health.consecutiveFailures >= settings.failureThreshold) health.openUntil = Math.max(health.openUntil, now + settings.openMs);
}

export function endCall(health: TargetHealth): void {
  health.inFlight = Math.max(0, health.inFlight - 1);
}

/** Every target seen by this process, for the circuit gauge. */
export function healthEntries(): IterableIterator<[string, TargetHealth]> {
  return healthByTarget.entries();
}

/** For tests: forget every target. */
export function resetTargetHealth(): void {
  healthByTarget.clear();
}
