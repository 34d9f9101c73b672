// Decides the provider call for an OpenAI chat completion request: URL, headers, body.
import { badRequest } from '../core/errors';
import type { DispatchPlan } from '../core/context/request-context-store';
import type { OpenAIChatRequest } from '../core/providers/openai/openai-chat-schemas';
import { DEFAULT_BASE_URLS, type LlmProxyConfig, type LlmProxyTarget } from './config';

/**
 * `apiKey` is the resolved key (never logged, never returned to the client).
 * Streams always ask the provider for usage, so tokens are counted exactly.
 */
export function planChatCompletion(request: OpenAIChatRequest, config: LlmProxyConfig, target: LlmProxyTarget, apiKey: string | null): DispatchPlan {
  const model = target.model ?? request.model;
  if (model === undefined) throw badRequest("Missing required parameter: 'model'.", 'missing_model');
  const stream = request.stream === true;
  const body: Record<string, unknown> = { ...request, model };
  if (stream) body.stream_options = { ...(request.stream_options ?? {}), include_usage: true };
  const baseUrl = (target.base_url ?? DEFAULT_BASE_URLS[target.provider] ?? '').replace(/\/+$/, '');
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: stream ? 'text/event-stream' : 'application/json' };
  if (apiKey !== null) headers.authorization = `Bearer ${apiKey}`;
  return {
    upstreamUrl: `${baseUrl}/chat/completions`,
    upstreamHeaders: headers,
    upstreamBody: JSON.stringify(body),
    stream,
    clientWantsUsage: request.stream_options?.include_usage === true,
    provider: target.provider,
    model,
    timeoutMs: config.upstream_timeout_ms,
  };
}
