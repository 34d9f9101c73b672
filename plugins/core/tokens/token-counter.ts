// Picks the tokenizer for a target's model: OpenAI's own BPE (exact) for OpenAI models, a measured estimate for the rest.
import { countTokens as countO200k } from 'gpt-tokenizer/cjs/encoding/o200k_base';
import { countTokens as countCl100k } from 'gpt-tokenizer/cjs/encoding/cl100k_base';

export type TokenizerFamily = 'o200k_base' | 'cl100k_base';

export interface TokenCounter {
  family: TokenizerFamily;
  /** True when the count is what the provider bills (OpenAI models); false for an estimate. */
  exact: boolean;
  /** Scales an o200k count to the provider's tokenizer (1 when exact). */
  factor: number;
  /** Tokens of a plain string (no chat framing), scaled by `factor`, rounded up. */
  count(text: string): number;
}

/**
 * How many of a provider's tokens one o200k token is worth, as the ratio of sums over recorded
 * prompts with the provider's reported counts (test/fixtures/token-counts; `make eval` prints it).
 * Providers not measured get the largest measured factor: a reservation should err high.
 */
export const ESTIMATE_FACTORS: Record<string, number> = {
  anthropic: 1.2,
  gemini: 1.1,
  mistral: 1.2,
};
const UNMEASURED_FACTOR = Math.max(...Object.values(ESTIMATE_FACTORS));

// OpenAI's model families by tokenizer, as tiktoken's model map lists them.
const O200K_MODELS = /^(gpt-4o|chatgpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|gpt-oss|o1|o3|o4|omni-)/;
const CL100K_MODELS = /^(gpt-4|gpt-3\.5|gpt-35|text-embedding-3|text-embedding-ada-002)/;

/** The counter for a model at a provider; OpenAI-named models are exact at any OpenAI-wire provider. */
export function tokenCounterFor(provider: string, model: string): TokenCounter {
  // "openai/gpt-4o" (router-style names) and Azure deployment names that keep the model's name.
  const name = model.slice(model.lastIndexOf('/') + 1).toLowerCase();
  const openAIWire = provider === 'openai' || provider === 'azure' || provider === 'openai-compatible';
  if (openAIWire && O200K_MODELS.test(name)) return exactCounter('o200k_base', countO200k);
  if (openAIWire && CL100K_MODELS.test(name)) return exactCounter('cl100k_base', countCl100k);
  const factor = ESTIMATE_FACTORS[provider] ?? UNMEASURED_FACTOR;
  return { family: 'o200k_base', exact: false, factor, count: (text) => Math.ceil(countO200k(text, AS_PLAIN_TEXT) * factor) };
}

// Providers read "<|endoftext|>" in a prompt as plain text, so must we (the library throws by default).
const AS_PLAIN_TEXT = { disallowedSpecial: new Set<string>() };

function exactCounter(family: TokenizerFamily, count: typeof countO200k): TokenCounter {
  return { family, exact: true, factor: 1, count: (text) => count(text, AS_PLAIN_TEXT) };
}
