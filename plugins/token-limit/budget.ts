// Reserves a request's amounts on every limit it falls under, all or nothing, and settles them at the end.
import { createHash, randomBytes } from 'node:crypto';
import type { LimitConfig } from './config';
import type { Amounts } from './usage-amounts';
import { windowBounds } from './windows';
import type { CounterRequest, LimitPolicy } from './policies/limit-policy';

/** One limit applied to one identity of this request. */
export interface BudgetLimit {
  config: LimitConfig;
  name: string;
  /** The limit in counter units (micro-USD for cost). */
  units: number;
  /** `<kind>:<value>`, e.g. `consumer:<id>`. */
  identity: string;
}

/** A limit's state after the check, for headers and errors. */
export interface LimitState {
  limit: BudgetLimit;
  /** Committed plus reserved usage in the window (this request's reservation included when admitted). */
  used: number;
  /** What this request asked to reserve. */
  requested: number;
  resetAtMs: number;
}

interface Counter extends CounterRequest {
  state: LimitState;
}

/** What a request holds until it settles: counters grouped by identity (one atomic reserve, one hash slot, each). */
export interface Reservation {
  id: string;
  groups: Counter[][];
}

export type BudgetDecision =
  | { admitted: true; reservation: Reservation; states: LimitState[] }
  | { admitted: false; refused: LimitState; states: LimitState[] };

export interface BudgetOptions {
  namespace: string;
  nowMs: number;
  ttlMs: number;
}

/**
 * Reserves on every identity's counters in parallel (one script each). If any refuses or fails,
 * the groups that did reserve are released before answering, so a refused request holds nothing.
 */
export async function reserveBudget(policy: LimitPolicy, limits: BudgetLimit[], amounts: Amounts, options: BudgetOptions): Promise<BudgetDecision> {
  const reservation: Reservation = { id: randomBytes(12).toString('base64url'), groups: groupByIdentity(limits, amounts, options) };
  const outcomes = await Promise.allSettled(reservation.groups.map((counters) => policy.reserve(counters, reservation.id, options.ttlMs, options.nowMs)));
  let refused: LimitState | null = null;
  let failure: unknown = null;
  const held: Counter[][] = [];
  outcomes.forEach((outcome, index) => {
    const counters = reservation.groups[index]!;
    if (outcome.status === 'rejected') {
      failure ??= outcome.reason;
      // A script that timed out on our side may still have run in Redis: release it too (a no-op if not).
      held.push(counters);
      return;
    }
    outcome.value.counters.forEach((state, position) => (counters[position]!.state.used = state.used));
    if (outcome.value.admitted) held.push(counters);
    else refused ??= counters[outcome.value.refused]!.state;
  });
  const states = reservation.groups.flat().map((counter) => counter.state);
  if (failure === null && refused === null) return { admitted: true, reservation, states };
  // Give back what was reserved, without waiting: the answer (refusal or fault) does not depend on it.
  void Promise.allSettled(held.map((counters) => policy.settle(counters.map(release), reservation.id, options.nowMs)));
  if (failure !== null) throw failure;
  return { admitted: false, refused: refused!, states };
}

/** Replaces the reservation by what the request really used (zero for what it never did). */
export async function settleBudget(policy: LimitPolicy, reservation: Reservation, actual: Amounts, nowMs: number): Promise<void> {
  await Promise.all(
    reservation.groups.map((counters) =>
      policy.settle(
        counters.map((counter) => ({ key: counter.key, windowEndMs: counter.windowEndMs, actual: actual[counter.state.limit.config.metric] })),
        reservation.id,
        nowMs,
      ),
    ),
  );
}

function release(counter: Counter) {
  return { key: counter.key, windowEndMs: counter.windowEndMs, actual: 0 };
}

function groupByIdentity(limits: BudgetLimit[], amounts: Amounts, options: BudgetOptions): Counter[][] {
  const groups = new Map<string, Counter[]>();
  for (const limit of limits) {
    const { startMs, endMs } = windowBounds(limit.config.window, options.nowMs);
    // The braces are a Redis Cluster hash tag: one identity's counters share a slot, so one script covers them.
    // Identities are hashed: header values and IPs stay out of Redis keys.
    const tag = `${options.namespace}:${hashIdentity(limit.identity)}`;
    const amount = amounts[limit.config.metric];
    const counter: Counter = {
      key: `tl:{${tag}}:${limit.name}:${startMs}`,
      limit: limit.units,
      amount,
      windowEndMs: endMs,
      state: { limit, used: 0, requested: amount, resetAtMs: endMs },
    };
    const group = groups.get(tag);
    if (group) group.push(counter);
    else groups.set(tag, [counter]);
  }
  return [...groups.values()];
}

function hashIdentity(identity: string): string {
  return createHash('sha256').update(identity).digest('base64url').slice(0, 22);
}
