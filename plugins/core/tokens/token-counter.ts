// Picks the tokenizer for a target's model: OpenAI's own BPE (exact) for OpenAI models, a measured estimate for the rest.

// Providers read "<|endoftext|>" in a prompt as plain text, so must we (the library throws by default).
const AS_PLAIN_TEXT = { disallowedSpecial: new Set<string>() };

type Encoding = typeof import('gpt-tokenizer/cjs/encoding/o200k_base');

// The BPE tables take ~0.2 s to load: loaded on first use, so Kong's query commands (--dump) stay fast;
// the server warms them at start (warmTokenizers) so no request pays for it.
let o200k: Encoding | undefined;
let cl100k: Encoding | undefined;
const o200kEncoding = (): Encoding => (o200k ??= require('gpt-tokenizer/cjs/encoding/o200k_base') as Encoding);
const cl100kEncoding = (): Encoding => (cl100k ??= require('gpt-tokenizer/cjs/encoding/cl100k_base') as Encoding);
const countO200k = (text: string) => countInLinearTime(text, (part) => o200kEncoding().countTokens(part, AS_PLAIN_TEXT));
const countCl100k = (text: string) => countInLinearTime(text, (part) => cl100kEncoding().countTokens(part, AS_PLAIN_TEXT));

/**
 * A run of one character class (letters, punctuation or whitespace) is one pre-tokenizer piece, and
 * BPE's time is quadratic in a piece's length: 100,000 "x" take 15 s, a 1 MB one would take half an hour.
 */
const LONG_RUN = /[\p{L}\p{M}]{200,}|[^\s\p{L}\p{M}\p{N}]{200,}|\s{200,}/gu;
const RUN_PIECE_CHARACTERS = 100;

/**
 * Text without such runs is counted whole (exact: every real prompt we measured). Long runs are counted
 * in 100-character pieces: linear time, at most two tokens too many per piece (a reservation errs high).
 */
export function countInLinearTime(text: string, count: (text: string) => number): number {
  LONG_RUN.lastIndex = 0;
  if (!LONG_RUN.test(text)) return count(text);
  let total = 0;
  let from = 0;
  LONG_RUN.lastIndex = 0;
  for (const run of text.matchAll(LONG_RUN)) {
    if (run.index > from) total += count(text.slice(from, run.index));
    // Code points, not UTF-16 units: a piece never splits a surrogate pair.
    const characters = Array.from(run[0]);
    for (let start = 0; start < characters.length; start += RUN_PIECE_CHARACTERS) total += count(characters.slice(start, start + RUN_PIECE_CHARACTERS).join(''));
    from = run.index + run[0].length;
  }
  if (from < text.length) total += count(text.slice(from));
  return total;
}

export function warmTokenizers(): void {
  o200kEncoding();
  cl100kEncoding();
}

export type TokenizerFamily = 'o200k_base' | 'cl100k_base';

/**
 * How a provider frames a chat prompt, as a linear model over o200k counts fitted (least squares)
 * to provider-reported input tokens of recorded requests (test/fixtures/token-counts; `make eval`
 * prints the fit and the error of these numbers).
 */
export interface PromptEstimate {
  /** Provider tokens per o200k token of text. */
  perToken: number;
  perMessage: number;
  perRequest: number;
  /** Tokens a provider adds when tools are present (Anthropic's tool-use system prompt). */
  toolsOverhead: number;
  /** Provider tokens per o200k token of the tools' JSON definitions. */
  perToolToken: number;
}

export const PROMPT_ESTIMATES: Record<string, PromptEstimate> = {
  anthropic: { perToken: 1.07, perMessage: 3.7, perRequest: 2, toolsOverhead: 394, perToolToken: 1.75 },
  gemini: { perToken: 1.06, perMessage: 0.5, perRequest: 0, toolsOverhead: 0, perToolToken: 1.08 },
  mistral: { perToken: 1.0, perMessage: 3.4, perRequest: 4.3, toolsOverhead: 0, perToolToken: 1.41 },
};
/** Models not measured (Llama, Qwen ... behind OpenAI-compatible servers): OpenAI's framing, text counted high. */
export const UNMEASURED_ESTIMATE: PromptEstimate = { perToken: 1.1, perMessage: 4, perRequest: 3, toolsOverhead: 0, perToolToken: 1.75 };

export interface TokenCounter {
  family: TokenizerFamily;
  /** Null when the count is what the provider bills (OpenAI models); else how the estimate is made. */
  estimate: PromptEstimate | null;
  /** Tokens of a plain string (no chat framing); for estimates, the o200k count scaled and rounded up. */
  count(text: string): number;
}

// OpenAI's model families by tokenizer, as tiktoken's model map lists them.
const O200K_MODELS = /^(gpt-4o|chatgpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|gpt-oss|o1|o3|o4|omni-)/;
const CL100K_MODELS = /^(gpt-4|gpt-3\.5|gpt-35|text-embedding-3|text-embedding-ada-002)/;


/** The counter for a model at a provider; OpenAI-named models are exact at any OpenAI-wire provider. */
export function tokenCounterFor(provider: string, model: string): TokenCounter {
  // "openai/gpt-4o" (router-style names) and Azure deployment names that keep the model's name.
  const name = model.slice(model.lastIndexOf('/') + 1).toLowerCase();
  const openAIWire = provider === 'openai' || provider === 'azure' || provider === 'openai-compatible';
  if (openAIWire && O200K_MODELS.test(name)) return { family: 'o200k_base', estimate: null, count: countO200k };
  if (openAIWire && CL100K_MODELS.test(name)) return { family: 'cl100k_base', estimate: null, count: countCl100k };
  const estimate = PROMPT_ESTIMATES[provider] ?? UNMEASURED_ESTIMATE;
  return { family: 'o200k_base', estimate, count: (text) => Math.ceil(countO200k(text) * estimate.perToken) };
}

/** The raw o200k count, for estimates that scale parts of a prompt differently. */
export function countO200kTokens(text: string): number {
  return countO200k(text);
}
