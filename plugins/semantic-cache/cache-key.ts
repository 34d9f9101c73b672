// What makes two chat requests the same question: the parts that must match exactly, and the question compared by meaning.
import { createHash } from 'node:crypto';
import type { OpenAIChatRequest } from '../core/providers/openai/openai-chat-schemas';

export interface CacheKeyOptions {
  turns: number;
  skipLongerConversations: boolean;
  maxTemperature: number;
  /** The provider models that may answer (llm-proxy's plan): a route that sends the same name elsewhere gets its own entries. */
  servingModels: string[];
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

/**
 * Request fields known not to change the answer's content (or handled on their own: messages, model,
 * temperature, n, logprobs, the output cap). Every other field, including ones this gateway has never heard
 * of (`tools`, `response_format`, `top_p`, a server's `guided_choice` ...), is part of the exact context:
 * an allowlist, so an unknown field can never make two different requests share an answer.
 */
const NEUTRAL_FIELDS = new Set([
  'messages',
  'model',
  'stream',
  'stream_options',
  'temperature',
  'n',
  'logprobs',
  'max_tokens',
  'max_completion_tokens',
  'user',
  'metadata',
  'store',
  'service_tier',
  'safety_identifier',
  'prompt_cache_key',
]);

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
  const shaping = Object.keys(fields)
    .filter((field) => !NEUTRAL_FIELDS.has(field) && fields[field] !== undefined && fields[field] !== null)
    .sort()
    .map((field) => [field, canonical(fields[field])]);
  const context = {
    model: request.model ?? null,
    serving: [...new Set(options.servingModels)].sort(),
    system: request.messages.filter((message) => SYSTEM_ROLES.has(message.role)).map((message) => canonical(message.content)),
    earlier: turns.slice(-options.turns, -1).map(canonical),
    shaping,
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
