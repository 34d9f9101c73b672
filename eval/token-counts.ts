// How well token-limit counts prompts before sending them: exact for OpenAI, a fitted o200k estimate for others.
// Ground truth: provider-reported input tokens of recorded requests (test/fixtures/token-counts, see SOURCES.md).
import fs from 'node:fs';
import path from 'node:path';
import type { OpenAIChatRequest } from '../plugins/core/providers/openai/openai-chat-schemas';
import { countChatPromptTokens } from '../plugins/core/tokens/count-prompt-tokens';
import { countO200kTokens, tokenCounterFor } from '../plugins/core/tokens/token-counter';
import { REPOSITORY_ROOT } from '../test/support/gateway';

export interface RecordedUsage {
  provider: 'anthropic' | 'gemini' | 'mistral' | 'openai';
  model: string;
  system: string | null;
  messages: Array<{ role: string; content: string }>;
  tools_present: boolean;
  tools?: unknown[];
  flags?: string[];
  endpoint?: string;
  reported_input_tokens: number;
}

export function loadRecordedUsage(): RecordedUsage[] {
  const file = path.join(REPOSITORY_ROOT, 'test/fixtures/token-counts/recorded-usage.json');
  return JSON.parse(fs.readFileSync(file, 'utf8')) as RecordedUsage[];
}

/** The entry as token-limit sees it: OpenAI's chat shape (a separate system prompt becomes the first message). */
export function asOpenAIRequest(entry: RecordedUsage): OpenAIChatRequest {
  const messages = [...(entry.system === null ? [] : [{ role: 'system', content: entry.system }]), ...entry.messages] as OpenAIChatRequest['messages'];
  // Gemini groups its declarations: [{ functionDeclarations: [...] }].
  const flat = entry.tools?.flatMap((tool) => (tool as { functionDeclarations?: unknown[] }).functionDeclarations ?? [tool]);
  const tools = flat?.map((tool) => toOpenAITool(tool)).filter((tool) => tool !== null);
  return { model: entry.model, messages, ...(tools && tools.length > 0 ? { tools } : {}) };
}

/** Recorded tool definitions come in each provider's shape; the count needs name, description, parameters. */
function toOpenAITool(tool: unknown): { type: 'function'; function: Record<string, unknown> } | null {
  const value = tool as Record<string, any>;
  const definition = value.function ?? value;
  const name = definition.name;
  if (typeof name !== 'string') return null;
  return { type: 'function', function: { name, description: definition.description, parameters: definition.parameters ?? definition.input_schema ?? definition.parametersJsonSchema } };
}

/** One provider's prompt counts against what it reported (snake_case: published as JSON by the correctness benchmark). */
export interface ProviderAccuracy {
  provider: string;
  tools: boolean;
  requests: number;
  /** Requests the count hits exactly. */
  exact: number;
  /** Mean, 90th percentile and largest |count - reported| / reported. */
  mean_relative_error: number;
  p90_relative_error: number;
  max_relative_error: number;
  /** Share of requests counted low (a reservation that errs low). */
  counted_low: number;
}

const PROVIDERS = ['openai', 'anthropic', 'gemini', 'mistral'] as const;

/** The shipped counter for each provider, on the recorded entries without flags. */
export function measure(entries: RecordedUsage[], withTools: boolean): ProviderAccuracy[] {
  const results: ProviderAccuracy[] = [];
  for (const provider of PROVIDERS) {
    const chosen = entries.filter((entry) => entry.provider === provider && entry.tools_present === withTools && (entry.flags ?? []).length === 0);
    if (chosen.length === 0) continue;
    const counter = tokenCounterFor(provider, provider === 'openai' ? 'gpt-4o' : 'model');
    const errors: number[] = [];
    let under = 0;
    let exact = 0;
    for (const entry of chosen) {
      const count = countChatPromptTokens(asOpenAIRequest(entry), counter);
      errors.push(Math.abs(count - entry.reported_input_tokens) / entry.reported_input_tokens);
      if (count < entry.reported_input_tokens) under += 1;
      if (count === entry.reported_input_tokens) exact += 1;
    }
    errors.sort((a, b) => a - b);
    results.push({
      provider,
      tools: withTools,
      requests: chosen.length,
      exact,
      mean_relative_error: errors.reduce((sum, error) => sum + error, 0) / errors.length,
      p90_relative_error: errors[Math.floor(errors.length * 0.9)] ?? 0,
      max_relative_error: errors.at(-1) ?? 0,
      counted_low: under / chosen.length,
    });
  }
  return results;
}

/** Every provider, without and with tools, and the fit behind the estimates: what `make eval` prints and the correctness benchmark publishes. */
export interface PromptEstimateMeasure {
  recorded_requests: number;
  providers: ProviderAccuracy[];
  /** Least-squares reported = per_token * o200k(text) + per_message * messages + per_request, on plain entries. */
  plain_fits: Array<{ provider: string; per_token: number; per_message: number; per_request: number }>;
}

export function measurePromptEstimates(entries: RecordedUsage[] = loadRecordedUsage()): PromptEstimateMeasure {
  return {
    recorded_requests: entries.length,
    providers: [...measure(entries, false), ...measure(entries, true)],
    plain_fits: PROVIDERS.map((provider) => {
      const [perToken = NaN, perMessage = NaN, perRequest = NaN] = fitPlain(entries, provider);
      return { provider, per_token: perToken, per_message: perMessage, per_request: perRequest };
    }),
  };
}

/**
 * Least-squares fit of reported = perToken * o200k(text) + perMessage * messages + perRequest on
 * plain entries: where PROMPT_ESTIMATES' numbers come from (tools terms fitted on the residuals).
 */
export function fitPlain(entries: RecordedUsage[], provider: string): number[] {
  const rows = entries.filter((entry) => entry.provider === provider && !entry.tools_present && (entry.flags ?? []).length === 0);
  const features = rows.map((entry) => {
    const messages = asOpenAIRequest(entry).messages;
    const text = messages.reduce((sum, message) => sum + countO200kTokens(typeof message.content === 'string' ? message.content : ''), 0);
    return [text, messages.length, 1];
  });
  return leastSquares(features, rows.map((entry) => entry.reported_input_tokens));
}

function leastSquares(features: number[][], targets: number[]): number[] {
  const size = features[0]?.length ?? 0;
  const matrix = Array.from({ length: size }, () => new Array<number>(size + 1).fill(0));
  features.forEach((row, index) => {
    for (let a = 0; a < size; a += 1) {
      for (let b = 0; b < size; b += 1) matrix[a]![b]! += row[a]! * row[b]!;
      matrix[a]![size]! += row[a]! * targets[index]!;
    }
  });
  for (let column = 0; column < size; column += 1) {
    for (let row = 0; row < size; row += 1) {
      if (row === column) continue;
      const factor = matrix[row]![column]! / matrix[column]![column]!;
      for (let cell = column; cell <= size; cell += 1) matrix[row]![cell]! -= factor * matrix[column]![cell]!;
    }
  }
  return matrix.map((row, index) => row[size]! / row[index]!);
}

export function report(): string {
  const measured = measurePromptEstimates();
  const lines = ['token counts before sending, against provider-reported input tokens (test/fixtures/token-counts)', 'provider   tools entries exact mean|err| p90|err| counted-low'];
  for (const row of measured.providers) {
    lines.push(
      `${row.provider.padEnd(10)} ${(row.tools ? 'yes' : 'no').padEnd(5)} ${String(row.requests).padStart(7)} ${String(row.exact).padStart(5)} ${(row.mean_relative_error * 100).toFixed(1).padStart(8)}% ${(row.p90_relative_error * 100).toFixed(1).padStart(7)}% ${(row.counted_low * 100).toFixed(0).padStart(10)}%`,
    );
  }
  lines.push('least-squares fit on plain entries (per o200k token, per message, per request):');
  for (const fit of measured.plain_fits) lines.push(`  ${fit.provider.padEnd(10)} ${[fit.per_token, fit.per_message, fit.per_request].map((value) => value.toFixed(3)).join('  ')}`);
  return lines.join('\n');
}
