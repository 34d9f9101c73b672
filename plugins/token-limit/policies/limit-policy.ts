// The two-method interface every counter store implements: reserve room atomically, then settle it.

/** One window of one limit for one key: where to count, how much room, how much this request wants. */
export interface CounterRequest {
  key: string;
  limit: number;
  amount: number;
  windowEndMs: number;
}

/** A counter after the check: committed plus reserved usage, this request's reservation included when admitted. */
export interface CounterState {
  used: number;
}

export type ReserveOutcome =
  | { admitted: true; counters: CounterState[] }
  /** `refused` is the index of the first counter without room; nothing was reserved anywhere. */
  | { admitted: false; counters: CounterState[]; refused: number };

export interface CounterSettlement {
  key: string;
  /** What the request really used (0 releases the reservation). */
  actual: number;
  windowEndMs: number;
}

/**
 * A counter store. `reserve` is atomic over the counters it is given (one Redis script; callers give
 * it only counters of one key, which share a hash slot): either every counter has room and all are
 * reserved, or none is. A reservation older than `ttlMs` stops counting, so a dead node leaks nothing.
 * `settle` replaces the reservation with the actual usage, once.
 */
export interface LimitPolicy {
  reserve(counters: CounterRequest[], reservationId: string, ttlMs: number, nowMs: number): Promise<ReserveOutcome>;
  settle(counters: CounterSettlement[], reservationId: string, nowMs: number): Promise<void>;
}
