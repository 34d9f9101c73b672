// Prometheus metrics of the plugin server process: requests, tokens, cost, latency, fallbacks, circuits.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { circuitState, healthEntries } from './routing/target-health';

export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'kong_ai_' });

/** Route, consumer, provider, model, target: every per-request metric carries these. */
const REQUEST_LABELS = ['route', 'consumer', 'provider', 'model', 'target'] as const;

const requests = new Counter({ name: 'kong_ai_llm_requests_total', help: 'LLM requests answered, by status.', labelNames: [...REQUEST_LABELS, 'status'], registers: [registry] });
const tokens = new Counter({ name: 'kong_ai_llm_tokens_total', help: 'Tokens as the provider reported them, by type (input, output, cached_input, reasoning).', labelNames: [...REQUEST_LABELS, 'type'], registers: [registry] });
const cost = new Counter({ name: 'kong_ai_llm_cost_usd_total', help: 'Cost in USD at the configured or shipped prices.', labelNames: REQUEST_LABELS, registers: [registry] });
const fallbacks = new Counter({ name: 'kong_ai_llm_fallbacks_total', help: 'Provider calls that failed and were followed by another attempt.', labelNames: ['route', 'consumer'], registers: [registry] });
const providerLatency = new Histogram({
  name: 'kong_ai_llm_provider_latency_seconds',
  help: 'Time from calling the provider to its response headers.',
  labelNames: ['provider', 'model', 'target'],
  buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60],
  registers: [registry],
});
const timeToFirstToken = new Histogram({
  name: 'kong_ai_llm_time_to_first_token_seconds',
  help: 'Streams: time from the connector receiving the request to the first event sent to the client.',
  labelNames: ['provider', 'model', 'target'],
  buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
  registers: [registry],
});
new Gauge({
  name: 'kong_ai_llm_circuit_open',
  help: '1 while a target is kept out by its circuit breaker (or a Retry-After), else 0.',
  labelNames: ['target'],
  registers: [registry],
  collect() {
    this.reset();
    for (const [key, health] of healthEntries()) this.set({ target: key }, circuitState(health) === 'open' ? 1 : 0);
  },
});

export interface RequestMetrics {
  route: string;
  consumer: string;
  provider: string;
  model: string;
  target: string;
  status: number;
  usage: { input_tokens: number; output_tokens: number; cached_input_tokens: number; reasoning_tokens: number } | null;
  costUsd: number | null;
  fallbackCount: number;
  providerLatencyMs: number | null;
  timeToFirstTokenMs: number | null;
}

export function recordRequest(metrics: RequestMetrics): void {
  const labels = { route: metrics.route, consumer: metrics.consumer, provider: metrics.provider, model: metrics.model, target: metrics.target };
  requests.inc({ ...labels, status: String(metrics.status) });
  if (metrics.usage) {
    tokens.inc({ ...labels, type: 'input' }, metrics.usage.input_tokens);
    tokens.inc({ ...labels, type: 'output' }, metrics.usage.output_tokens);
    tokens.inc({ ...labels, type: 'cached_input' }, metrics.usage.cached_input_tokens);
    tokens.inc({ ...labels, type: 'reasoning' }, metrics.usage.reasoning_tokens);
  }
  if (metrics.costUsd !== null) cost.inc(labels, metrics.costUsd);
  if (metrics.fallbackCount > 0) fallbacks.inc({ route: metrics.route, consumer: metrics.consumer }, metrics.fallbackCount);
  const callLabels = { provider: metrics.provider, model: metrics.model, target: metrics.target };
  if (metrics.providerLatencyMs !== null) providerLatency.observe(callLabels, metrics.providerLatencyMs / 1000);
  if (metrics.timeToFirstTokenMs !== null) timeToFirstToken.observe(callLabels, metrics.timeToFirstTokenMs / 1000);
}

const limitDecisions = new Counter({
  name: 'kong_ai_token_limit_decisions_total',
  help: 'token-limit checks by outcome: admitted, refused (429), store_unavailable (admitted or 503 by fault_tolerant).',
  labelNames: ['outcome', 'limit'],
  registers: [registry],
});
const estimatedCommits = new Counter({
  name: 'kong_ai_token_limit_estimated_commits_total',
  help: 'Commits counted by the gateway because the provider reported no usage (stream cut, client abort, usage missing).',
  labelNames: ['reason'],
  registers: [registry],
});

/** `limit` is the refusing limit's name, empty otherwise. */
export function recordLimitDecision(outcome: 'admitted' | 'refused' | 'store_unavailable', limit = ''): void {
  limitDecisions.inc({ outcome, limit });
}

export function recordEstimatedCommit(reason: string): void {
  estimatedCommits.inc({ reason });
}

const piiFindings = new Counter({
  name: 'kong_ai_pii_entities_total',
  help: 'Personal data found in prompts by pii-redact, by kind and action (never the values).',
  labelNames: ['entity', 'action'],
  registers: [registry],
});

export function recordPiiFindings(found: Array<{ entity: string; action: string; count: number }>): void {
  for (const { entity, action, count } of found) piiFindings.inc({ entity, action }, count);
}

const cacheLookups = new Counter({
  name: 'kong_ai_cache_lookups_total',
  help: 'semantic-cache decisions by X-Cache-Status (Hit, Semantic-Hit, Miss, Bypass, Refresh).',
  labelNames: ['status'],
  registers: [registry],
});

export function recordCacheLookup(status: string): void {
  cacheLookups.inc({ status });
}

const promptGuardDecisions = new Counter({
  name: 'kong_ai_prompt_guard_decisions_total',
  help: 'prompt-guard layers that tripped, by layer (size, pattern, role, injection, topic, judge, output) and action (block, flag, log_only).',
  labelNames: ['layer', 'action'],
  registers: [registry],
});

export function recordPromptGuardDecision(layer: string, action: string): void {
  promptGuardDecisions.inc({ layer, action });
}
