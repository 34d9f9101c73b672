// Builds the HTTP call for a provider from an OpenAI chat completion request: URL, headers, body, wire format.
import type { OpenAIChatRequest } from './openai/openai-chat-schemas';
import type { WireFormat } from './response-translator';
import { convertToAnthropicMessages } from './anthropic/convert-to-anthropic-messages';
import { convertToMistralChat } from './mistral/convert-to-mistral-chat';

export const PROVIDERS = ['openai', 'azure', 'openai-compatible', 'anthropic', 'mistral'] as const;
export type Provider = (typeof PROVIDERS)[number];

/** Where each provider listens when a target names no base_url. */
export const DEFAULT_BASE_URLS: Partial<Record<Provider, string>> = {
  openai: 'https://api.openai.com/v1',
  anthropic: 'https://api.anthropic.com',
  mistral: 'https://api.mistral.ai/v1',
};

/** Azure OpenAI data-plane API version used when a target names none (GA, with stream usage). */
export const DEFAULT_AZURE_API_VERSION = '2024-10-21';

/** The Messages API version this translation follows. */
const ANTHROPIC_VERSION = '2023-06-01';

export interface ProviderCallOptions {
  model: string;
  baseUrl: string;
  /** Resolved key: goes into a header, never into a log. */
  apiKey: string | null;
  stream: boolean;
  defaultMaxTokens: number;
  /** Azure only: the api-version query parameter. */
  azureApiVersion?: string;
}

export interface ProviderCall {
  url: string;
  headers: Record<string, string>;
  body: string;
  wireFormat: WireFormat;
}

export function buildProviderRequest(provider: Provider, request: OpenAIChatRequest, options: ProviderCallOptions): ProviderCall {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const accept = options.stream ? 'text/event-stream' : 'application/json';
  switch (provider) {
    case 'openai':
    case 'openai-compatible':
    case 'azure': {
      const body: Record<string, unknown> = { ...request, model: options.model };
      // Always ask for usage on streams, so tokens are counted exactly.
      if (options.stream) body.stream_options = { ...(request.stream_options ?? {}), include_usage: true };
      const headers: Record<string, string> = { 'content-type': 'application/json', accept };
      if (provider === 'azure') {
        // Azure addresses a deployment (named by the target's model) and authenticates with api-key.
        if (options.apiKey !== null) headers['api-key'] = options.apiKey;
        const version = encodeURIComponent(options.azureApiVersion ?? DEFAULT_AZURE_API_VERSION);
        return { url: `${baseUrl}/openai/deployments/${encodeURIComponent(options.model)}/chat/completions?api-version=${version}`, headers, body: JSON.stringify(body), wireFormat: 'openai' };
      }
      if (options.apiKey !== null) headers.authorization = `Bearer ${options.apiKey}`;
      return { url: `${baseUrl}/chat/completions`, headers, body: JSON.stringify(body), wireFormat: 'openai' };
    }
    case 'mistral': {
      const headers: Record<string, string> = { 'content-type': 'application/json', accept };
      if (options.apiKey !== null) headers.authorization = `Bearer ${options.apiKey}`;
      return { url: `${baseUrl}/chat/completions`, headers, body: JSON.stringify(convertToMistralChat(request, options.model, options.stream)), wireFormat: 'mistral' };
    }
    case 'anthropic': {
      const headers: Record<string, string> = { 'content-type': 'application/json', accept, 'anthropic-version': ANTHROPIC_VERSION };
      if (options.apiKey !== null) headers['x-api-key'] = options.apiKey;
      const body = convertToAnthropicMessages(request, { model: options.model, defaultMaxTokens: options.defaultMaxTokens, stream: options.stream });
      return { url: `${baseUrl}/v1/messages`, headers, body: JSON.stringify(body), wireFormat: 'anthropic' };
    }
  }
}
