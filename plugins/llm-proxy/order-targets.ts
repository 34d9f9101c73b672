// Orders a route's targets for one request: priority groups first, then the balancing algorithm within each.

export type BalancingAlgorithm = 'round-robin' | 'least-in-flight' | 'lowest-latency';

export interface TargetView {
  index: number;
  priority: number;
  weight: number;
  inFlight: number;
  latencyEwmaMs: number | null;
  /** False while the target's circuit is open (or a probe is under way): it goes last, not away. */
  admitted: boolean;
}

export interface TargetOrder {
  /** Target indexes, the one to call first at the front. */
  order: number[];
  /** What decided the order, for the routing header and the log. */
  decision: string;
}

/**
 * Smooth weighted round-robin (as nginx does): each pick adds every weight to its running total,
 * takes the largest, and subtracts the sum of weights from it. Over any window of sum(weights)
 * picks each target is chosen exactly `weight` times, interleaved. `current` is mutated.
 */
export function smoothWeightedPick(weights: number[], current: number[]): number {
  let best = -1;
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  for (let index = 0; index < weights.length; index += 1) {
    current[index] = (current[index] ?? 0) + weights[index]!;
    if (best === -1 || current[index]! > current[best]!) best = index;
  }
  current[best] = current[best]! - total;
  return best;
}

/**
 * `roundRobinState` holds the running totals per priority group of this route (kept by the caller
 * between requests). Admitted targets come before kept-out ones within each group.
 */
export function orderTargets(targets: TargetView[], algorithm: BalancingAlgorithm, roundRobinState: Map<string, number[]>): TargetOrder {
  const priorities = [...new Set(targets.map((target) => target.priority))].sort((a, b) => a - b);
  const order: number[] = [];
  let firstGroupDecision = '';
  for (const priority of priorities) {
    const group = targets.filter((target) => target.priority === priority);
    const admitted = group.filter((target) => target.admitted);
    const keptOut = group.filter((target) => !target.admitted);
    const ranked = rank(admitted, algorithm, roundRobinState, priority);
    order.push(...ranked.map((target) => target.index), ...keptOut.map((target) => target.index));
    if (firstGroupDecision === '' && ranked.length > 0) firstGroupDecision = `priority=${priority};algorithm=${algorithm}`;
  }
  return { order, decision: firstGroupDecision || `algorithm=${algorithm};all-targets-kept-out` };
}

function rank(group: TargetView[], algorithm: BalancingAlgorithm, roundRobinState: Map<string, number[]>, priority: number): TargetView[] {
  if (group.length <= 1) return group;
  switch (algorithm) {
    case 'round-robin': {
      // Keyed by the group's members, so a target leaving or rejoining starts the totals afresh.
      const key = `${priority}:${group.map((target) => target.index).join(',')}`;
      const current = roundRobinState.get(key) ?? [];
      roundRobinState.set(key, current);
      const first = group[smoothWeightedPick(group.map((target) => target.weight), current)]!;
      return [first, ...group.filter((target) => target !== first).sort((a, b) => b.weight - a.weight)];
    }
    case 'least-in-flight':
      return [...group].sort((a, b) => a.inFlight - b.inFlight || b.weight - a.weight || a.index - b.index);
    case 'lowest-latency':
      // Unmeasured targets go first, so every target gets measured.
      return [...group].sort((a, b) => (a.latencyEwmaMs ?? -1) - (b.latencyEwmaMs ?? -1) || a.index - b.index);
  }
}
