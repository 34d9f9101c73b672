// llm-proxy's configuration: the zod schema is the source of truth; Kong's schema is derived from it.
import { z } from 'zod';
import { isVaultReference } from '../core/vault';

export const PROVIDERS = ['openai', 'openai-compatible'] as const;

/** Where each provider listens when a target names no base_url. */
export const DEFAULT_BASE_URLS: Partial<Record<(typeof PROVIDERS)[number], string>> = {
  openai: 'https://api.openai.com/v1',
};

const target = z
  .object({
    provider: z.enum(PROVIDERS).describe('Wire format of the provider: `openai`, or `openai-compatible` for any server speaking it (vLLM, Ollama, Groq, ...).'),
    model: z.string().min(1).optional().describe("Model sent to the provider. When unset, the client's `model` is sent as is."),
    base_url: z.url({ protocol: /^https?$/ }).optional().describe('Base URL of the API, up to and including the version (e.g. `https://api.openai.com/v1`). Required for `openai-compatible`.'),
    api_key: z
      .string()
      .refine(isVaultReference, 'must be a Kong vault reference such as {vault://env/OPENAI_API_KEY}, never the key itself')
      .optional()
      .describe('Provider key as a Kong env vault reference, `{vault://env/NAME}`; the variable is read from the plugin server environment. Unset for servers that need no key.'),
  })
  .refine((t) => t.base_url !== undefined || DEFAULT_BASE_URLS[t.provider] !== undefined, {
    message: 'base_url is required for this provider',
    path: ['base_url'],
  });
export type LlmProxyTarget = z.output<typeof target>;

export const llmProxyConfig = z.object({
  route_type: z.enum(['llm/v1/chat']).default('llm/v1/chat').describe('The API the route serves: `llm/v1/chat` is OpenAI `/v1/chat/completions`.'),
  targets: z.array(target).min(1).describe('Providers and models that serve this route. This release sends every request to the first target.'),
  max_request_body_bytes: z
    .number()
    .int()
    .min(1024)
    .max(64 * 1024 * 1024)
    .default(8 * 1024 * 1024)
    .describe('Largest request body accepted, in bytes; larger bodies get 413.'),
  upstream_timeout_ms: z.number().int().min(100).max(600_000).default(60_000).describe('How long to wait for the provider to start answering, in milliseconds.'),
});
export type LlmProxyConfig = z.output<typeof llmProxyConfig>;
