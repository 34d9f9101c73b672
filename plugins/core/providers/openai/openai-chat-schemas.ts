// Minimal zod schemas of OpenAI chat completions: only the fields the gateway reads or checks.
import { z } from 'zod';

const contentPart = z.looseObject({ type: z.string() });

export const openAIChatMessage = z.looseObject({
  role: z.enum(['system', 'developer', 'user', 'assistant', 'tool', 'function']),
  content: z.union([z.string(), z.array(contentPart), z.null()]).optional(),
});

/** A chat completion request as a client sends it. Unknown fields pass through to the provider. */
export const openAIChatRequest = z.looseObject({
  model: z.string().min(1).optional(),
  messages: z.array(openAIChatMessage).min(1),
  stream: z.boolean().nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullish(),
  max_tokens: z.number().int().positive().nullish(),
  max_completion_tokens: z.number().int().positive().nullish(),
});
export type OpenAIChatRequest = z.infer<typeof openAIChatRequest>;

export const openAIUsage = z.looseObject({
  prompt_tokens: z.number(),
  completion_tokens: z.number(),
  total_tokens: z.number(),
  prompt_tokens_details: z.looseObject({ cached_tokens: z.number().optional() }).nullish(),
  completion_tokens_details: z.looseObject({ reasoning_tokens: z.number().optional() }).nullish(),
});

/** What we read of a non-streamed response: usage, and the answer text. */
export const openAIChatResponse = z.looseObject({
  choices: z.array(z.looseObject({ message: z.looseObject({ content: z.string().nullish(), tool_calls: z.array(z.unknown()).nullish() }).optional(), finish_reason: z.string().nullish() })),
  usage: openAIUsage.nullish(),
});

/** What we read of one streamed chunk. */
export const openAIChatChunk = z.looseObject({
  choices: z.array(z.looseObject({ delta: z.looseObject({ content: z.string().nullish(), tool_calls: z.array(z.unknown()).nullish() }).optional(), finish_reason: z.string().nullish() })),
  usage: openAIUsage.nullish(),
});
