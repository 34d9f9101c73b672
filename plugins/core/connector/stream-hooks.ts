// The response-side hook API: how plugins act on what the provider answers, streamed or not.
import type { TokenUsage } from '../providers/token-usage';
import type { ModelPrice } from '../pricing/price-table';
import type { RequestContext } from '../context/request-context-store';
import { logger } from '../logger';

/**
 * One piece of the answer in the client's format: an SSE event (its `event:` name for Anthropic,
 * null for OpenAI, and its data), or a whole JSON body (event null).
 */
export interface ResponseChunk {
  event: string | null;
  data: string;
}

/** Why the response ended. */
export type EndReason =
  | { kind: 'complete' } // the provider finished and every byte reached the client
  | { kind: 'upstream_error'; message: string } // the provider failed or cut the stream
  | { kind: 'client_abort' } // the client went away before the end
  | { kind: 'not_sent' }; // the request never reached a provider (refused after admission, or Kong never proxied it)

export interface ResponseSummary {
  status: number;
  stream: boolean;
  /** Token usage as the provider reported it; null when it never arrived. */
  usage: TokenUsage | null;
  /** Cost in USD of the usage at the serving target's price; null when usage or price is unknown. */
  costUsd: number | null;
  /** The assistant text produced so far (for estimates when usage is missing, cache fill, output guards). */
  text: string;
  /** OpenAI's finish_reason of the answer (`stop`, `length`, `tool_calls`, ...); null until one arrives. */
  finishReason: string | null;
  /** The target that answered (or was called last); null when no call was made. */
  served: { provider: string; model: string; price: ModelPrice | null } | null;
}

/**
 * Registered by a plugin's access phase on the request context; run by the connector.
 * - `onChunk` maps one chunk to the chunks to send instead: the same one changed (PII restore), none
 *   (holding bytes back), or several (releasing held bytes as an event of their own). It may throw a
 *   GatewayError to stop the answer (output guard). A whole, non-streamed body is one chunk and must
 *   come back as one.
 * - `onFlush` is called once before the final event of a successful stream, for anything still held.
 * - `onEnd` is called exactly once, whatever happened (token commit, cache fill, audit).
 */
export interface StreamHooks {
  name: string;
  onChunk?(chunk: ResponseChunk): ResponseChunk[];
  onFlush?(): ResponseChunk[];
  onEnd?(reason: EndReason, summary: ResponseSummary): void | Promise<void>;
}

export function emptySummary(stream: boolean): ResponseSummary {
  return { status: 0, stream, usage: null, costUsd: null, text: '', finishReason: null, served: null };
}

/** Runs every end hook of a request, once: a hook's failure is logged and never stops the others. */
export async function runEndHooks(context: RequestContext, reason: EndReason, summary: ResponseSummary): Promise<void> {
  if (context.ended) return;
  context.ended = true;
  for (const hook of context.hooks) {
    try {
      await hook.onEnd?.(reason, summary);
    } catch (error) {
      logger.error({ hook: hook.name, err: { message: (error as Error).message } }, 'stream end hook failed');
    }
  }
}
