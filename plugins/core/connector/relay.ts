// Relays a provider's answer to the client, whole or event by event, through the plugins' hooks.
import type http from 'node:http';
import { GatewayError } from '../errors';
import { ServerSentEventParser, formatServerSentEvent, type ServerSentEvent } from '../http/server-sent-events';
import { openAIChatChunk, openAIChatResponse } from '../providers/openai/openai-chat-schemas';
import { mapOpenAIUsage } from '../providers/openai/map-openai-usage';
import type { EndReason, ResponseSummary, StreamHooks } from './stream-hooks';

/** Sends a whole (non-streamed) provider answer, after the hooks have seen it. */
export function relayWhole(body: string, status: number, contentType: string, hooks: StreamHooks[], summary: ResponseSummary, response: http.ServerResponse): void {
  let text = body;
  if (status < 400) {
    const parsed = openAIChatResponse.safeParse(safeJson(body));
    if (parsed.success) {
      summary.usage = parsed.data.usage ? mapOpenAIUsage(parsed.data.usage) : null;
      summary.text = parsed.data.choices.map((choice) => choice.message?.content ?? '').join('');
    }
    text = applyChunkHooks(hooks, body) + applyFlushHooks(hooks);
  }
  response.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

/** Thrown when a stream fails before its first byte reached the client: the call may still be retried. */
export class StreamFailedBeforeFirstByte extends GatewayError {}

/**
 * Relays SSE event by event as the provider sends them, so Kong (unbuffered) passes each on at once.
 * Headers go out with the first event, so a stream that dies before it can still fall back.
 * Usage is read from the final chunk; the usage-only chunk is withheld when the client did not ask
 * for it (we always ask the provider, to count tokens).
 */
export async function relayStream(body: AsyncIterable<Buffer>, hooks: StreamHooks[], summary: ResponseSummary, response: http.ServerResponse, clientWantsUsage: boolean): Promise<EndReason> {
  const parser = new ServerSentEventParser();
  let done = false;
  const write = (text: string) => {
    if (!response.headersSent) {
      response.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        // nginx (Kong) honours this header and passes each event on without buffering it.
        'x-accel-buffering': 'no',
      });
    }
    response.write(text);
  };
  const relay = (events: ServerSentEvent[]) => {
    for (const event of events) {
      if (event.data === '[DONE]') {
        const tail = applyFlushHooks(hooks);
        if (tail !== '') write(formatServerSentEvent({ event: null, data: tail }));
        write('data: [DONE]\n\n');
        done = true;
        continue;
      }
      const chunk = openAIChatChunk.safeParse(safeJson(event.data));
      if (chunk.success) {
        if (chunk.data.usage) summary.usage = mapOpenAIUsage(chunk.data.usage);
        for (const choice of chunk.data.choices) summary.text += choice.delta?.content ?? '';
        if (chunk.data.choices.length === 0 && chunk.data.usage && !clientWantsUsage) continue;
      }
      const data = applyChunkHooks(hooks, event.data);
      if (data !== '') write(formatServerSentEvent({ event: event.event, data }));
    }
  };
  try {
    for await (const bytes of body) relay(parser.push(bytes));
    relay(parser.end());
  } catch (error) {
    if (!response.headersSent) throw new StreamFailedBeforeFirstByte('The provider failed before streaming anything.', { status: 502, type: 'server_error', code: 'upstream_stream_failed', cause: error });
    throw error;
  }
  if (!done) {
    const ErrorType = response.headersSent ? GatewayError : StreamFailedBeforeFirstByte;
    throw new ErrorType('The provider ended the stream before it was complete.', { status: 502, type: 'server_error', code: 'upstream_stream_incomplete' });
  }
  response.end();
  return { kind: 'complete' };
}

function applyChunkHooks(hooks: StreamHooks[], data: string): string {
  return hooks.reduce((text, hook) => (hook.onChunk ? hook.onChunk({ data: text }) : text), data);
}

function applyFlushHooks(hooks: StreamHooks[]): string {
  return hooks.map((hook) => hook.onFlush?.() ?? '').join('');
}

/** After bytes went out the status cannot change: end with an SSE error event and no [DONE]. */
export function endStreamWithError(response: http.ServerResponse, error: GatewayError): void {
  if (response.writableEnded || response.destroyed) return;
  response.end(formatServerSentEvent({ event: null, data: JSON.stringify(error.toBody()) }));
}

export function sendError(response: http.ServerResponse, error: GatewayError): void {
  const body = JSON.stringify(error.toBody());
  response.writeHead(error.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...error.headers });
  response.end(body);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
