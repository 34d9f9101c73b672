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
