// token-limit's configuration: the zod schema is the source of truth; Kong's schema is derived from it.
import { z } from 'zod';
import { failModeField } from '../kong/common-config';
import { redisConfig } from '../core/redis/redis-config';

export const LIMIT_METRICS = ['requests', 'input_tokens', 'output_tokens', 'total_tokens', 'cost_usd'] as const;
export const LIMIT_WINDOWS = ['second', 'minute', 'hour', 'day', 'month'] as const;
export const LIMIT_KEYS = ['consumer', 'credential', 'consumer_group', 'ip', 'header', 'route', 'service'] as const;
export type LimitMetric = (typeof LIMIT_METRICS)[number];
export type LimitWindow = (typeof LIMIT_WINDOWS)[number];
export type LimitKey = (typeof LIMIT_KEYS)[number];

const limit = z
  .object({
    name: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, `_`, `.` and `-` only, at most 64')
      .optional()
      .describe('Names the limit in logs, errors and counter keys. Defaults to `<metric>-per-<window>-by-<key_by>`.'),
    metric: z.enum(LIMIT_METRICS).describe('What is counted: requests, prompt (`input_tokens`), answer (`output_tokens`) or all tokens, or the cost in USD at the serving model\'s price.'),
    limit: z.number().positive().describe('How much of the metric one key may use per window (USD for `cost_usd`, a whole number otherwise).'),
    window: z.enum(LIMIT_WINDOWS).describe('The fixed window the limit applies to, aligned to UTC (a `month` is a calendar month).'),
    key_by: z
      .enum(LIMIT_KEYS)
      .default('consumer')
      .describe('Whose usage is counted: the Kong consumer (by username), credential, each consumer group of the consumer (by name), the client IP, a request header value, the route or the service (by id). Falls back to the client IP when the request has none.'),
    header_name: z.string().min(1).optional().describe('The request header whose value is the key, when `key_by` is `header`.'),
    soft_limit: z
      .number()
      .positive()
      .optional()
      .describe("Usage (same unit as `limit`) from which a key's requests go to llm-proxy's `downgrade_targets`, cheaper, instead of being refused later at `limit`."),
  })
  .superRefine((value, context) => {
    if (value.key_by === 'header' && value.header_name === undefined) context.addIssue({ code: 'custom', path: ['header_name'], message: 'is required when key_by is header' });
    if (value.metric !== 'cost_usd' && !Number.isInteger(value.limit)) context.addIssue({ code: 'custom', path: ['limit'], message: `must be a whole number for ${value.metric}` });
    if (value.soft_limit !== undefined && value.soft_limit >= value.limit) context.addIssue({ code: 'custom', path: ['soft_limit'], message: 'must be below limit' });
  });
export type LimitConfig = z.output<typeof limit>;


export const tokenLimitConfig = z
  .object({
    limits: z.array(limit).min(1).describe('The limits; a request is admitted only when every one of them has room.'),
    namespace: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,64}$/)
      .optional()
      .describe('Names the counters. Instances with the same namespace and limit name share them (across routes and nodes). Defaults to the plugin id: give the plugin an `id` in kong.yml, or set this, so every node names its counters alike.'),
    policy: z.enum(['local', 'redis']).default('local').describe('Where counters live: `local` (this node only) or `redis` (shared by every node).'),
    redis: redisConfig.optional().describe('The Redis the `redis` policy uses: standalone, Sentinel or Cluster.'),
    fault_tolerant: z
      .boolean()
      .default(true)
      .describe('When Redis is down or slower than `redis.timeout_ms`: `true` admits the request and logs, `false` answers 503.'),
    hide_client_headers: z.boolean().default(false).describe('Leave out the `x-ratelimit-*` response headers.'),
    default_max_output_tokens: z
      .number()
      .int()
      .positive()
      .default(4096)
      .describe('Output tokens reserved for a request that sets no `max_tokens` / `max_completion_tokens` (and whose target sets none).'),
    reservation_ttl_seconds: z
      .number()
      .int()
      .min(1)
      .default(900)
      .describe('A reservation not settled within this time (its node died mid-request) stops counting, so nothing leaks.'),
    fail_mode: failModeField('closed'),
  })
  .superRefine((value, context) => {
    if (value.policy === 'redis' && value.redis === undefined) context.addIssue({ code: 'custom', path: ['redis'], message: 'is required when policy is redis' });
    const names = value.limits.map(limitName);
    const duplicate = names.find((name, index) => names.indexOf(name) !== index);
    if (duplicate !== undefined) context.addIssue({ code: 'custom', path: ['limits'], message: `two limits are named ${duplicate}; give them distinct names` });
  });
export type TokenLimitConfig = z.output<typeof tokenLimitConfig>;

export function limitName(limit: LimitConfig): string {
  return limit.name ?? `${limit.metric}-per-${limit.window}-by-${limit.key_by}`;
}
