// Maps Anthropic's usage to the gateway's token usage.
import type { TokenUsage } from '../token-usage';
import type { AnthropicUsage } from './anthropic-messages-schemas';

/**
 * Anthropic counts cache reads and cache writes apart from `input_tokens`; OpenAI's prompt_tokens
 * includes cached tokens. So input = input + cache reads + cache writes, and cached = cache reads.
 */
export function mapAnthropicUsage(usage: AnthropicUsage): TokenUsage {
  const cached = usage.cache_read_input_tokens ?? 0;
  const input = (usage.input_tokens ?? 0) + cached + (usage.cache_creation_input_tokens ?? 0);
  const output = usage.output_tokens ?? 0;
  return { input_tokens: input, output_tokens: output, total_tokens: input + output, cached_input_tokens: cached, reasoning_tokens: 0 };
}
