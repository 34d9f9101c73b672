// The response headers and the 429 of token-limit, named and shaped as OpenAI's own.
import { GatewayError } from '../core/errors';
import type { LimitMetric } from './config';
import type { LimitState } from './budget';
import { fromUnits } from './usage-amounts';

/** OpenAI's header suffix per metric: its `requests` and `tokens`, and our `cost-usd`. */
const CATEGORY: Record<LimitMetric, string> = {
  requests: 'requests',
  input_tokens: 'tokens',
  output_tokens: 'tokens',
  total_tokens: 'tokens',
  cost_usd: 'cost-usd',
};

/**
 * `x-ratelimit-{limit,remaining,reset}-{requests,tokens,cost-usd}`: per category, the limit with the
 * least room left, as OpenAI reports its one limit per category. Reset is a duration ("6m0s", "20ms").
 */
export function rateLimitHeaders(states: LimitState[], nowMs: number): Record<string, string> {
  const tightest = new Map<string, LimitState>();
  for (const state of states) {
    const category = CATEGORY[state.limit.config.metric];
    const current = tightest.get(category);
    if (!current || remaining(state) < remaining(current)) tightest.set(category, state);
  }
  const headers: Record<string, string> = {};
  for (const [category, state] of tightest) {
    const metric = state.limit.config.metric;
    headers[`x-ratelimit-limit-${category}`] = String(fromUnits(metric, state.limit.units));
    headers[`x-ratelimit-remaining-${category}`] = String(fromUnits(metric, remaining(state)));
    headers[`x-ratelimit-reset-${category}`] = formatDuration(state.resetAtMs - nowMs);
  }
  return headers;
}

/**
 * The 429 for a refused request, in OpenAI's words and shape. When the request alone is larger than
 * the limit, waiting cannot help: no Retry-After, and `x-should-retry: false` stops SDKs retrying.
 */
export function limitExceeded(refused: LimitState, headers: Record<string, string>, nowMs: number): GatewayError {
  const { config, name } = refused.limit;
  const metric = config.metric;
  const describe = `${name} (${metric.replace(/_/g, ' ')} per ${config.window}, by ${config.key_by.replace(/_/g, ' ')})`;
  const limit = fromUnits(metric, refused.limit.units);
  const requested = fromUnits(metric, refused.requested);
  const type = metric === 'requests' ? 'requests' : metric === 'cost_usd' ? 'insufficient_quota' : 'tokens';
  if (refused.requested > refused.limit.units) {
    return new GatewayError(`Request too large for ${describe}: limit ${limit}, requested ${requested}. Reduce the prompt or max_tokens.`, {
      status: 429,
      type,
      code: 'rate_limit_exceeded',
      headers: { ...headers, 'x-should-retry': 'false' },
    });
  }
  const waitMs = Math.max(0, refused.resetAtMs - nowMs);
  return new GatewayError(
    `Rate limit reached for ${describe}: limit ${limit}, used ${fromUnits(metric, refused.used)}, requested ${requested}. Please try again in ${formatDuration(waitMs)}.`,
    {
      status: 429,
      type,
      code: 'rate_limit_exceeded',
      // retry-after-ms is what the OpenAI SDKs read first; Retry-After (whole seconds) is for everyone else.
      headers: { ...headers, 'retry-after': String(Math.max(1, Math.ceil(waitMs / 1000))), 'retry-after-ms': String(waitMs) },
    },
  );
}

function remaining(state: LimitState): number {
  return Math.max(0, state.limit.units - state.used);
}

/** Go's duration format, which OpenAI's reset headers use: "20ms", "1.5s", "6m0s", "26h0m0s". */
export function formatDuration(ms: number): string {
  const clamped = Math.max(0, Math.round(ms));
  if (clamped < 1000) return `${clamped}ms`;
  const hours = Math.floor(clamped / 3_600_000);
  const minutes = Math.floor((clamped % 3_600_000) / 60_000);
  const seconds = (clamped % 60_000) / 1000;
  const secondsText = `${Number.isInteger(seconds) ? seconds : Number(seconds.toFixed(3))}s`;
  if (hours > 0) return `${hours}h${minutes}m${secondsText}`;
  if (minutes > 0) return `${minutes}m${secondsText}`;
  return secondsText;
}
