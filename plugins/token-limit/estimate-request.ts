// What a planned request may use at most (to reserve), and what it used when the provider never said.
import type { DispatchPlan } from '../core/context/request-context-store';
import { costOf, type ModelPrice } from '../core/pricing/price-table';
import { countChatPromptTokens, countEmbeddingInputTokens } from '../core/tokens/count-prompt-tokens';
import { tokenCounterFor, type TokenCounter } from '../core/tokens/token-counter';
import type { TokenUsage } from '../core/providers/token-usage';
import type { TokenAmounts } from './usage-amounts';

export interface RequestEstimate extends TokenAmounts {
  /** True when every candidate model's count is exact (OpenAI tokenizers); false when any is an estimate. */
  exact: boolean;
}

/**
 * The most the request can use on any of its candidate targets (fallback may land on any): prompt
 * tokens by each target's tokenizer, the output cap as sent (or `defaultMaxOutputTokens` when
 * uncapped), and the cost at each target's price. Cost is null only when no target has a price.
 */
export function estimatePlan(plan: DispatchPlan, defaultMaxOutputTokens: number): RequestEstimate {
  const estimate: RequestEstimate = { inputTokens: 0, outputTokens: 0, costUsd: null, exact: true };
  for (const attempt of plan.attempts) {
    const counter = tokenCounterFor(attempt.provider, attempt.model);
    const inputTokens = promptTokens(plan, counter);
    const outputTokens = plan.operation === 'embeddings' ? 0 : (attempt.maxOutputTokens ?? defaultMaxOutputTokens);
    estimate.inputTokens = Math.max(estimate.inputTokens, inputTokens);
    estimate.outputTokens = Math.max(estimate.outputTokens, outputTokens);
    estimate.exact &&= counter.estimate === null;
    if (attempt.price) estimate.costUsd = Math.max(estimate.costUsd ?? 0, costOf(usageOf(inputTokens, outputTokens), attempt.price));
  }
  return estimate;
}

/**
 * Usage counted by the gateway when the provider's never arrived (a stream cut or abandoned, a
 * provider that omits usage): the prompt by the serving model's tokenizer plus the text produced.
 */
export function estimateUsage(plan: DispatchPlan, served: { provider: string; model: string; price: ModelPrice | null }, text: string, promptSent: boolean): { usage: TokenUsage; costUsd: number | null } {
  const counter = tokenCounterFor(served.provider, served.model);
  const usage = usageOf(promptSent ? promptTokens(plan, counter) : 0, text === '' ? 0 : counter.count(text));
  return { usage, costUsd: served.price ? costOf(usage, served.price) : null };
}

/** The plan's prompt by a tokenizer (chat counts are kept per request and tokenizer by the counting module). */
function promptTokens(plan: DispatchPlan, counter: TokenCounter): number {
  return plan.operation === 'embeddings' ? countEmbeddingInputTokens(plan.request, counter) : countChatPromptTokens(plan.request, counter);
}

function usageOf(inputTokens: number, outputTokens: number): TokenUsage {
  return { input_tokens: inputTokens, output_tokens: outputTokens, total_tokens: inputTokens + outputTokens, cached_input_tokens: 0, reasoning_tokens: 0 };
}
