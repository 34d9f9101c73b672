// Which soft limits a key has reached, from this node's latest view of its counters (updated by every check).
import type { BudgetLimit, LimitState } from './budget';
import { limitUnits } from './usage-amounts';

interface Seen {
  used: number;
  windowEndMs: number;
}

/** Bounded: the oldest entries go first once full (a Map iterates in insertion order). */
const MAX_ENTRIES = 100_000;

/**
 * The usage each key's limits had at their last check on this node. Soft limits route, they do not
 * refuse, so this view may lag other nodes' traffic by a request; hard limits are always checked exactly.
 */
export class LastSeenUsage {
  private readonly seen = new Map<string, Seen>();

  record(namespace: string, states: LimitState[]): void {
    for (const state of states) {
      if (state.limit.config.soft_limit === undefined) continue;
      const key = keyOf(namespace, state.limit);
      this.seen.delete(key);
      this.seen.set(key, { used: state.used, windowEndMs: state.resetAtMs });
      if (this.seen.size > MAX_ENTRIES) this.seen.delete(this.seen.keys().next().value!);
    }
  }

  /** The name of the first limit whose soft limit the key had reached in the current window, or null. */
  reachedSoftLimit(namespace: string, limits: BudgetLimit[], nowMs: number): string | null {
    for (const limit of limits) {
      const soft = limit.config.soft_limit;
      if (soft === undefined) continue;
      const seen = this.seen.get(keyOf(namespace, limit));
      if (seen === undefined || seen.windowEndMs <= nowMs) continue;
      if (seen.used >= limitUnits({ ...limit.config, limit: soft })) return limit.name;
    }
    return null;
  }
}

function keyOf(namespace: string, limit: BudgetLimit): string {
  return `${namespace}\u0000${limit.name}\u0000${limit.identity}`;
}
