// The gateway's token usage of one request, whatever the provider: what accounting, logs and metrics read.

export interface TokenUsage {
  /** Prompt tokens, cached ones included. */
  input_tokens: number;
  output_tokens: number;
  total_tokens: number;
  /** Prompt tokens served from the provider's prompt cache (billed at the cached-input price). */
  cached_input_tokens: number;
  /** Output tokens spent on reasoning (already counted in output_tokens). */
  reasoning_tokens: number;
}

/** The usage object OpenAI clients read (prompt tokens include cached ones, completion tokens include reasoning). */
export function toOpenAIUsage(usage: TokenUsage): Record<string, unknown> {
  return {
    prompt_tokens: usage.input_tokens,
    completion_tokens: usage.output_tokens,
    total_tokens: usage.total_tokens,
    prompt_tokens_details: { cached_tokens: usage.cached_input_tokens },
    completion_tokens_details: { reasoning_tokens: usage.reasoning_tokens },
  };
}
