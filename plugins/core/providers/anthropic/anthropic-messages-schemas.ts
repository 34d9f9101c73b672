// Minimal zod schemas of Anthropic Messages responses and stream events: only the fields we read.
import { z } from 'zod';

export const anthropicUsage = z.looseObject({
  input_tokens: z.number().nullish(),
  output_tokens: z.number().nullish(),
  cache_read_input_tokens: z.number().nullish(),
  cache_creation_input_tokens: z.number().nullish(),
});
export type AnthropicUsage = z.infer<typeof anthropicUsage>;

const textBlock = z.looseObject({ type: z.literal('text'), text: z.string() });
const toolUseBlock = z.looseObject({ type: z.literal('tool_use'), id: z.string(), name: z.string(), input: z.unknown() });
const otherBlock = z.looseObject({ type: z.string() });

export const anthropicMessage = z.looseObject({
  id: z.string(),
  model: z.string(),
  content: z.array(z.union([textBlock, toolUseBlock, otherBlock])),
  stop_reason: z.string().nullish(),
  usage: anthropicUsage,
});
export type AnthropicMessage = z.infer<typeof anthropicMessage>;

export const anthropicError = z.looseObject({
  type: z.literal('error'),
  error: z.looseObject({ type: z.string(), message: z.string() }),
});

/** Stream events (https://docs.anthropic.com/en/api/messages-streaming), as a discriminated union on `type`. */
export const anthropicStreamEvent = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('message_start'), message: z.looseObject({ id: z.string(), model: z.string(), usage: anthropicUsage }) }),
  z.looseObject({ type: z.literal('content_block_start'), index: z.number(), content_block: z.union([textBlock, toolUseBlock, otherBlock]) }),
  z.looseObject({
    type: z.literal('content_block_delta'),
    index: z.number(),
    delta: z.union([
      z.looseObject({ type: z.literal('text_delta'), text: z.string() }),
      z.looseObject({ type: z.literal('input_json_delta'), partial_json: z.string() }),
      z.looseObject({ type: z.string() }),
    ]),
  }),
  z.looseObject({ type: z.literal('content_block_stop'), index: z.number() }),
  z.looseObject({ type: z.literal('message_delta'), delta: z.looseObject({ stop_reason: z.string().nullish() }), usage: anthropicUsage.nullish() }),
  z.looseObject({ type: z.literal('message_stop') }),
  z.looseObject({ type: z.literal('ping') }),
  z.looseObject({ type: z.literal('error'), error: z.looseObject({ type: z.string(), message: z.string() }) }),
]);
export type AnthropicStreamEvent = z.infer<typeof anthropicStreamEvent>;
