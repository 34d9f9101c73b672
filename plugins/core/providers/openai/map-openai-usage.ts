// Maps OpenAI's usage object to the gateway's token usage.
import type { z } from 'zod';
import type { openAIUsage } from './openai-chat-schemas';
import type { TokenUsage } from '../token-usage';

export function mapOpenAIUsage(usage: z.infer<typeof openAIUsage>): TokenUsage {
  return {
    input_tokens: usage.prompt_tokens,
    output_tokens: usage.completion_tokens,
    total_tokens: usage.total_tokens,
    cached_input_tokens: usage.prompt_tokens_details?.cached_tokens ?? 0,
    reasoning_tokens: usage.completion_tokens_details?.reasoning_tokens ?? 0,
  };
}
