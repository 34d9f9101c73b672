// What makes two chat requests the same question: the parts that must match exactly, and the question compared by meaning.
import { createHash } from 'node:crypto';
import type { OpenAIChatRequest } from '../core/providers/openai/openai-chat-schemas';

export interface CacheKeyOptions {
  turns: number;
  skipLongerConversations: boolean;
  maxTemperature: number;
}

export type CacheKey =
  | {
      cacheable: true;
      /** sha256 of everything that must match exactly: model, system prompt, earlier turns, answer-shaping parameters. */
      context: string;
      /** The newest user message, whitespace-normalised: compared by meaning. */
      question: string;
      /** sha256 of the question: the exact-match fast path. */
      questionHash: string;
      /** The request's output cap: a cached answer longer than it is not served. */
      maxOutputTokens: number | null;
    }
  | { cacheable: false; reason: string };

/** Request fields that change the answer: any difference in them is a different context. */
const ANSWER_SHAPING_FIELDS = [
  'tools',
  'tool_choice',
  'functions',
  'function_call',
  'parallel_tool_calls',
  'response_format',
  'stop',
  'top_p',
  'presence_penalty',
  'frequency_penalty',
  'logit_bias',
  'seed',
  'reasoning_effort',
  'modalities',
  'audio',
  'prediction',
  'web_search_options',
] as const;

const SYSTEM_ROLES = new Set(['system', 'developer']);

export function cacheKeyOf(request: OpenAIChatRequest, options: CacheKeyOptions): CacheKey {
  const fields = request as Record<string, unknown>;
  if (typeof fields.n === 'number' && fields.n > 1) return notCacheable('n > 1 asks for several answers');
  if (fields.logprobs === true) return notCacheable('logprobs belong to one generation');
  if (typeof fields.temperature === 'number' && fields.temperature > options.maxTemperature) return notCacheable('temperature above max_temperature');
  const turns = request.messages.filter((message) => !SYSTEM_ROLES.has(message.role));
  const last = turns.at(-1);
  if (last === undefined || last.role !== 'user') return notCacheable('the last message is not a user message');
  if (options.skipLongerConversations && turns.length > options.turns) return notCacheable('the conversation is longer than turns');
  const question = textOf(last.content);
  if (question === null) return notCacheable('the question has parts other than text');
  const normalised = question.normalize('NFC').replace(/\s+/g, ' ').trim();
  if (normalised === '') return notCacheable('the question is empty');
  const context = {
    model: request.model ?? null,
    system: request.messages.filter((message) => SYSTEM_ROLES.has(message.role)).map((message) => canonical(message.content)),
    earlier: turns.slice(-options.turns, -1).map(canonical),
    shaping: ANSWER_SHAPING_FIELDS.map((field) => (fields[field] === undefined || fields[field] === null ? null : canonical(fields[field]))),
  };
  return {
    cacheable: true,
    context: sha256(JSON.stringify(context)),
    question: normalised,
    questionHash: sha256(normalised),
    maxOutputTokens: request.max_completion_tokens ?? request.max_tokens ?? null,
  };
}

function notCacheable(reason: string): CacheKey {
  return { cacheable: false, reason };
}

/** A message's text: the string, or its text parts joined; null when it carries anything else (images, audio, files). */
function textOf(content: unknown): string | null {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return null;
  const texts: string[] = [];
  for (const part of content as Array<{ type?: unknown; text?: unknown }>) {
    if (part.type !== 'text' || typeof part.text !== 'string') return null;
    texts.push(part.text);
  }
  return texts.join('\n');
}

/** JSON with object keys sorted, so clients that order fields differently still match. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    inner !== null && typeof inner === 'object' && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner as Record<string, unknown>).sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0)))
      : inner,
  );
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
