// What a request reserves and what it finally costs, per limit metric, in whole counter units.
import type { TokenUsage } from '../core/providers/token-usage';
import type { LimitConfig, LimitMetric } from './config';

/** Counters hold integers (Redis HINCRBY); cost is counted in micro-USD, the precision costs are computed at. */
export const MICRO_USD_PER_USD = 1_000_000;

export type Amounts = Record<LimitMetric, number>;

export interface TokenAmounts {
  inputTokens: number;
  outputTokens: number;
  /** Cost in USD; null when the model's price is unknown (cost limits then count nothing). */
  costUsd: number | null;
}

export function amountsOf(tokens: TokenAmounts, requests: number): Amounts {
  return {
    requests,
    input_tokens: tokens.inputTokens,
    output_tokens: tokens.outputTokens,
    total_tokens: tokens.inputTokens + tokens.outputTokens,
    // A reservation rounds up so it covers the commit; commits come from costOf, already in micro-USD.
    cost_usd: tokens.costUsd === null ? 0 : Math.ceil(Math.round(tokens.costUsd * MICRO_USD_PER_USD * 1000) / 1000),
  };
}

export function usageAmounts(usage: TokenUsage, costUsd: number | null): TokenAmounts {
  return { inputTokens: usage.input_tokens, outputTokens: usage.output_tokens, costUsd };
}

/** A limit's size in counter units. */
export function limitUnits(limit: LimitConfig): number {
  return limit.metric === 'cost_usd' ? Math.round(limit.limit * MICRO_USD_PER_USD) : limit.limit;
}

/** Counter units back in the limit's own unit (USD for cost), for headers and messages. */
export function fromUnits(metric: LimitMetric, units: number): number {
  return metric === 'cost_usd' ? units / MICRO_USD_PER_USD : units;
}
