// Minimal zod schemas of OpenAI embeddings: the request fields the gateway checks, the usage it reads.
import { z } from 'zod';

export const openAIEmbeddingsRequest = z.looseObject({
  model: z.string().min(1).optional(),
  input: z.union([z.string(), z.array(z.string()).min(1), z.array(z.number()).min(1), z.array(z.array(z.number()).min(1)).min(1)]),
  encoding_format: z.enum(['float', 'base64']).optional(),
  dimensions: z.number().int().positive().optional(),
});
export type OpenAIEmbeddingsRequest = z.infer<typeof openAIEmbeddingsRequest>;

export const openAIEmbeddingsResponse = z.looseObject({
  data: z.array(z.looseObject({ index: z.number() })),
  usage: z.looseObject({ prompt_tokens: z.number(), total_tokens: z.number() }).nullish(),
});
