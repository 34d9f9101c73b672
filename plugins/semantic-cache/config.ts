// semantic-cache's configuration: the zod schema is the source of truth; Kong's schema is derived from it.
import { z } from 'zod';
import { failModeField } from '../kong/common-config';
import { embedderConfig } from '../core/embeddings/embedder-config';
import { redisConfig } from '../core/redis/redis-config';

export const CACHE_SCOPES = ['global', 'consumer', 'route', 'header'] as const;
export type CacheScope = (typeof CACHE_SCOPES)[number];

export const semanticCacheConfig = z
  .object({
    scope: z
      .enum(CACHE_SCOPES)
      .default('consumer')
      .describe(
        'Who may share answers: everyone (`global`), each Kong consumer (`consumer`, by username, else custom_id, else id), each route (`route`) or each value of a request header (`header`). Scopes are separate Redis keys and separate in-memory indexes, never a filter over shared ones. A request without the scope value (no consumer, no header) bypasses the cache.',
      ),
    scope_header: z.string().min(1).optional().describe('The request header whose value is the scope, when `scope` is `header` (e.g. a tenant id your auth layer sets).'),
    namespace: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,64}$/)
      .optional()
      .describe('Names the cache in Redis. Instances with the same namespace and scope share entries (across routes and nodes). Defaults to the plugin id: give the plugin an `id` in kong.yml, or set this, so every node names its keys alike.'),
    match: z
      .enum(['semantic', 'exact'])
      .default('semantic')
      .describe('`semantic` answers questions that mean the same (exact matches first, then by embedding similarity); `exact` only identical questions, with no embedding at all.'),
    similarity_threshold: z
      .number()
      .min(0)
      .max(1)
      .default(0.93)
      .describe('The lowest cosine similarity (1 = same direction, 0 = unrelated) between the embeddings of two questions for the cached answer to be served. The default is chosen on STS-B dev with USE-lite and the guard, for precision >= 0.97 (README, `make eval`); another embedder needs its own.'),
    guard_specifics: z
      .boolean()
      .default(true)
      .describe('Refuse a semantic hit when the two questions differ in negation, numbers, dates or names (e.g. "is X safe" vs "is X not safe", "2023" vs "2024"), whatever their similarity.'),
    turns: z
      .number()
      .int()
      .min(1)
      .max(50)
      .default(1)
      .describe('How many of the latest non-system messages make up the question: the newest (a user message) is compared by meaning, the ones before it must match exactly.'),
    skip_longer_conversations: z
      .boolean()
      .default(true)
      .describe('Conversations with more non-system messages than `turns` are not cached, because a follow-up such as "and the second one?" means something else in another conversation. `false` keys them on their last `turns` messages only.'),
    max_temperature: z
      .number()
      .min(0)
      .max(2)
      .default(1)
      .describe('Requests with a higher `temperature` ask for varied answers and are not cached.'),
    ttl_seconds: z.number().int().min(1).default(3600).describe('How long an entry may be served after it was stored.'),
    max_entries: z.number().int().min(1).max(1_000_000).default(10_000).describe('The most entries one scope keeps for one system prompt and model; the oldest go first.'),
    max_answer_bytes: z.number().int().min(1).default(65_536).describe('Answers longer than this are not stored.'),
    embedder: embedderConfig.default(embedderConfig.parse({})).describe('The sentence embedder for `semantic` matching (shared with prompt-guard when they name the same model).'),
    redis: redisConfig.default(redisConfig.parse({})).describe('The Redis that holds the entries, shared by every Kong node (default 127.0.0.1:6379).'),
    fail_mode: failModeField('open'),
  })
  .superRefine((value, context) => {
    if (value.scope === 'header' && value.scope_header === undefined) context.addIssue({ code: 'custom', path: ['scope_header'], message: 'is required when scope is header' });
  });
export type SemanticCacheConfig = z.output<typeof semanticCacheConfig>;
