// The response side of every plugin: a loopback HTTP server that Kong proxies to, which calls the provider.
import http from 'node:http';
import { Agent, request as undiciRequest } from 'undici';
import { GatewayError, toGatewayError } from '../errors';
import { logger } from '../logger';
import type { DispatchPlan, RequestContext, RequestContextStore } from '../context/request-context-store';
import { ServerSentEventParser, formatServerSentEvent } from '../http/server-sent-events';
import { openAIChatChunk, openAIChatResponse } from '../providers/openai/openai-chat-schemas';
import { mapOpenAIUsage } from '../providers/openai/map-openai-usage';
import type { EndReason, ResponseSummary, StreamHooks } from './stream-hooks';

/** The upstream request header carrying the request context id, set by llm-proxy's access phase. */
export const CONTEXT_HEADER = 'x-ai-gateway-context';

/** Shared keep-alive pool for every provider call made by this process. */
const providerAgent = new Agent({ keepAliveTimeout: 30_000, connections: 512, bodyTimeout: 300_000 });

export interface ConnectorOptions {
  host: string;
  port: number;
  /** Extra counters for `/__ai/status` (e.g. the RPC server's pending events). */
  status?: () => Record<string, number>;
}

export function startConnector(store: RequestContextStore, options: ConnectorOptions): Promise<http.Server> {
  const server = http.createServer((request, response) => {
    handle(store, options, request, response).catch((error: unknown) => {
      logger.error({ err: { message: (error as Error).message } }, 'connector failed');
      if (!response.headersSent) sendError(response, toGatewayError(error));
      else response.destroy();
    });
  });
  // Streams may be long; Kong's proxy_read_timeout governs idle time, not this server.
  server.requestTimeout = 0;
  server.keepAliveTimeout = 75_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve(server));
  });
}

async function handle(store: RequestContextStore, options: ConnectorOptions, request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
  if (request.url === '/__ai/health') {
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'ok' }));
    return;
  }
  if (request.url === '/__ai/status') {
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ contexts: store.size, ...options.status?.() }));
    return;
  }
  // Kong forwards the client's body too; the plan already holds the policed version, so drain it.
  request.resume();
  const context = claim(store, request.headers[CONTEXT_HEADER]);
  if (context === null || context.plan === null) {
    sendError(
      response,
      new GatewayError('This request was not admitted by the AI gateway policies of its route.', {
        status: 403,
        type: 'permission_error',
        code: 'request_not_admitted',
      }),
    );
    return;
  }
  const plan = context.plan;
  context.plan = null; // a context id admits exactly one upstream call
  try {
    await dispatch(plan, context, response);
  } finally {
    store.markDone(context.id);
  }
}

/** The context an id names, if the access phases admitted it and nobody has used it yet. */
function claim(store: RequestContextStore, header: string | string[] | undefined): RequestContext | null {
  if (typeof header !== 'string') return null;
  const context = store.get(header);
  if (!context || context.inFlight || context.plan === null) return null;
  context.inFlight = true;
  return context;
}

async function dispatch(plan: DispatchPlan, context: RequestContext, response: http.ServerResponse): Promise<void> {
  const abort = new AbortController();
  let clientGone = false;
  // 'close' before the response finished means the client (or Kong) went away mid-answer.
  const onClientGone = () => {
    if (response.writableFinished) return;
    clientGone = true;
    abort.abort();
  };
  response.on('close', onClientGone);
  const summary: ResponseSummary = { status: 0, stream: plan.stream, usage: null, text: '' };
  let reason: EndReason = { kind: 'complete' };
  try {
    // Our own timer: undici's timeouts tick at about half a second, too coarse for a deadline.
    let timedOut = false;
    const headersTimer = setTimeout(() => ((timedOut = true), abort.abort()), plan.timeoutMs);
    const upstream = await undiciRequest(plan.upstreamUrl, {
      method: 'POST',
      headers: plan.upstreamHeaders,
      body: plan.upstreamBody,
      dispatcher: providerAgent,
      signal: abort.signal,
    })
      .catch((error: unknown) => {
        throw upstreamFailure(error, plan, timedOut);
      })
      .finally(() => clearTimeout(headersTimer));
    summary.status = upstream.statusCode;
    const contentType = String(upstream.headers['content-type'] ?? '');
    if (upstream.statusCode >= 400 || !contentType.includes('text/event-stream')) {
      await relayWhole(upstream, context.hooks, summary, response);
    } else {
      reason = await relayStream(upstream.body, context.hooks, summary, response, plan);
    }
  } catch (error) {
    if (clientGone) reason = { kind: 'client_abort' };
    else {
      const failure = toGatewayError(error);
      reason = { kind: 'upstream_error', message: failure.message };
      if (!response.headersSent) sendError(response, failure);
      else endStreamWithError(response, failure);
    }
  } finally {
    response.off('close', onClientGone);
    if (!response.writableEnded && response.headersSent && reason.kind === 'client_abort') response.destroy();
    await runEndHooks(context.hooks, reason, summary);
  }
}

async function relayWhole(
  upstream: Awaited<ReturnType<typeof undiciRequest>>,
  hooks: StreamHooks[],
  summary: ResponseSummary,
  response: http.ServerResponse,
): Promise<void> {
  let body = await upstream.body.text();
  if (upstream.statusCode < 400) {
    const parsed = openAIChatResponse.safeParse(safeJson(body));
    if (parsed.success) {
      summary.usage = parsed.data.usage ? mapOpenAIUsage(parsed.data.usage) : null;
      summary.text = parsed.data.choices.map((choice) => choice.message?.content ?? '').join('');
    }
    body = applyChunkHooks(hooks, body) + applyFlushHooks(hooks);
  }
  response.writeHead(upstream.statusCode, {
    'content-type': String(upstream.headers['content-type'] ?? 'application/json'),
    'content-length': Buffer.byteLength(body),
  });
  response.end(body);
}

/**
 * Relays SSE event by event as the provider sends them, so Kong (unbuffered) passes each on at once.
 * Usage is read from the final chunk; the usage-only chunk is withheld when the client did not ask
 * for it (we always ask the provider, to count tokens).
 */
async function relayStream(
  body: AsyncIterable<Buffer>,
  hooks: StreamHooks[],
  summary: ResponseSummary,
  response: http.ServerResponse,
  plan: DispatchPlan,
): Promise<EndReason> {
  response.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    // nginx (Kong) honours this header and passes each event on without buffering it.
    'x-accel-buffering': 'no',
  });
  response.flushHeaders();
  const parser = new ServerSentEventParser();
  let done = false;
  const relay = (events: ReturnType<ServerSentEventParser['push']>) => {
    for (const event of events) {
      if (event.data === '[DONE]') {
        const tail = applyFlushHooks(hooks);
        if (tail !== '') response.write(formatServerSentEvent({ event: null, data: tail }));
        response.write('data: [DONE]\n\n');
        done = true;
        continue;
      }
      const chunk = openAIChatChunk.safeParse(safeJson(event.data));
      if (chunk.success) {
        if (chunk.data.usage) summary.usage = mapOpenAIUsage(chunk.data.usage);
        for (const choice of chunk.data.choices) summary.text += choice.delta?.content ?? '';
        if (chunk.data.choices.length === 0 && chunk.data.usage && !plan.clientWantsUsage) continue;
      }
      const data = applyChunkHooks(hooks, event.data);
      if (data !== '') response.write(formatServerSentEvent({ event: event.event, data }));
    }
  };
  for await (const bytes of body) relay(parser.push(bytes));
  relay(parser.end());
  if (!done) throw new GatewayError('The provider ended the stream before it was complete.', { status: 502, type: 'server_error', code: 'upstream_stream_incomplete' });
  response.end();
  return { kind: 'complete' };
}

function applyChunkHooks(hooks: StreamHooks[], data: string): string {
  return hooks.reduce((text, hook) => (hook.onChunk ? hook.onChunk({ data: text }) : text), data);
}

function applyFlushHooks(hooks: StreamHooks[]): string {
  return hooks.map((hook) => hook.onFlush?.() ?? '').join('');
}

async function runEndHooks(hooks: StreamHooks[], reason: EndReason, summary: ResponseSummary): Promise<void> {
  for (const hook of hooks) {
    try {
      await hook.onEnd?.(reason, summary);
    } catch (error) {
      logger.error({ hook: hook.name, err: { message: (error as Error).message } }, 'stream end hook failed');
    }
  }
}

/** After bytes went out the status cannot change: end with an SSE error event and no [DONE]. */
function endStreamWithError(response: http.ServerResponse, error: GatewayError): void {
  if (response.writableEnded || response.destroyed) return;
  response.end(formatServerSentEvent({ event: null, data: JSON.stringify(error.toBody()) }));
}

function sendError(response: http.ServerResponse, error: GatewayError): void {
  const body = JSON.stringify(error.toBody());
  response.writeHead(error.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...error.headers });
  response.end(body);
}

function upstreamFailure(error: unknown, plan: DispatchPlan, timedOut: boolean): GatewayError {
  if (timedOut) {
    return new GatewayError(`The provider did not answer within ${plan.timeoutMs} ms.`, { status: 504, type: 'server_error', code: 'upstream_timeout', cause: error });
  }
  return new GatewayError('The provider could not be reached.', { status: 502, type: 'server_error', code: 'upstream_unreachable', cause: error });
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
