// Serves an answer a policy already holds (semantic-cache) as if a provider had just sent it, through the same hooks.
import type http from 'node:http';
import { randomBytes } from 'node:crypto';
import type { DispatchPlan } from '../context/request-context-store';
import { createResponseTranslator } from '../providers/create-response-translator';
import { toOpenAIUsage, type TokenUsage } from '../providers/token-usage';
import { relayStream, relayWhole } from './relay';
import type { ResponseSummary, StreamHooks } from './stream-hooks';

/** A finished answer (finish reason `stop`, text only), as the provider wrote it: redacted text stays redacted. */
export interface CachedAnswer {
  text: string;
  /** The model that wrote it. */
  model: string;
  /** What producing it cost when it was stored; a replay costs nothing. */
  usage: TokenUsage | null;
}

/** Characters per replayed stream event: a few events rather than one, so clients see a normal stream. */
const CHARACTERS_PER_EVENT = 200;

/**
 * Replays the answer in the client's format (OpenAI or Anthropic, whole or SSE) by feeding an OpenAI
 * answer through the same translators and hooks as a provider's, so PII is restored per request and
 * output guards still apply. The gateway spent nothing: usage is zero for budgets and metrics.
 */
export async function replayAnswer(answer: CachedAnswer, plan: DispatchPlan, hooks: StreamHooks[], summary: ResponseSummary, response: http.ServerResponse): Promise<void> {
  const translator = createResponseTranslator('openai', plan.clientFormat, answer.model);
  const id = `chatcmpl-cache-${randomBytes(12).toString('base64url')}`;
  const created = Math.floor(Date.now() / 1000);
  summary.status = 200;
  summary.served = { provider: 'cache', model: answer.model, price: null };
  try {
    if (plan.stream) await relayStream([Buffer.from(streamOf(answer, id, created))], translator, hooks, summary, response, plan.clientWantsUsage);
    else relayWhole(JSON.stringify(completionOf(answer, id, created)), 200, translator, hooks, summary, response);
  } finally {
    // Set whatever happened: the relay reads the stored usage into the summary, but nothing was spent.
    summary.usage = { input_tokens: 0, output_tokens: 0, total_tokens: 0, cached_input_tokens: 0, reasoning_tokens: 0 };
    summary.costUsd = 0;
  }
}

function completionOf(answer: CachedAnswer, id: string, created: number): Record<string, unknown> {
  return {
    id,
    object: 'chat.completion',
    created,
    model: answer.model,
    choices: [{ index: 0, message: { role: 'assistant', content: answer.text, refusal: null }, logprobs: null, finish_reason: 'stop' }],
    ...(answer.usage ? { usage: toOpenAIUsage(answer.usage) } : {}),
  };
}

/** The answer as OpenAI streams it: role, text in pieces, finish reason, usage, [DONE]. */
function streamOf(answer: CachedAnswer, id: string, created: number): string {
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) => `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: answer.model, choices, ...extra })}\n\n`;
  const delta = (content: Record<string, unknown>, finish: string | null = null) => chunk([{ index: 0, delta: content, logprobs: null, finish_reason: finish }]);
  const characters = Array.from(answer.text); // whole code points: a piece never splits a surrogate pair
  let events = delta({ role: 'assistant', content: '' });
  for (let start = 0; start < characters.length; start += CHARACTERS_PER_EVENT) events += delta({ content: characters.slice(start, start + CHARACTERS_PER_EVENT).join('') });
  events += delta({}, 'stop');
  if (answer.usage) events += chunk([], { usage: toOpenAIUsage(answer.usage) });
  return `${events}data: [DONE]\n\n`;
}
