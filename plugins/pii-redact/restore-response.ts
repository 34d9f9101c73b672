// Puts the originals back into the model's answer, in the client's format: whole or streamed, OpenAI or Anthropic.
import type { ResponseChunk, StreamHooks } from '../core/connector/stream-hooks';
import type { PlaceholderMap } from '../core/pii/placeholder-map';
import { StreamRestorer, escapeForJsonString, type OutputScanner } from '../core/pii/stream-restorer';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * The hooks that restore one request's placeholders in its answer, and with `scanner` (scan_output) redact
 * personal data the answer's text brings that the gateway did not put there. Tool-call arguments are only restored.
 */
export function restoringHooks(map: PlaceholderMap, scanner: OutputScanner | null = null): Pick<StreamHooks, 'onChunk' | 'onFlush'> {
  const channels = new Channels(map, scanner);
  // A whole text is one push and its flush: the same scan and restore as a stream's.
  const finish = (text: string) => {
    const restorer = new StreamRestorer(map, undefined, scanner);
    return restorer.push(text) + restorer.flush();
  };
  // Anthropic's SSE events are named (`event: content_block_delta`); OpenAI's are not.
  let anthropicStream = false;
  return {
    onChunk: (chunk) => {
      const parsed = parseJson(chunk.data);
      if (parsed === null) return [chunk];
      // A whole OpenAI answer has choices[].message; a streamed chunk has choices[].delta (some servers omit `object`).
      const wholeOpenAI = Array.isArray(parsed.choices) && (parsed.choices as Json[]).some((choice) => choice?.message !== undefined);
      if (chunk.event === null && wholeOpenAI) return [{ ...chunk, data: JSON.stringify(restoreOpenAIBody(parsed, map, finish)) }];
      if (chunk.event === null && parsed.type === 'message') return [{ ...chunk, data: JSON.stringify(restoreAnthropicBody(parsed, map, finish)) }];
      if (chunk.event === null) return [{ ...chunk, data: JSON.stringify(restoreOpenAIStreamChunk(parsed, channels)) }];
      anthropicStream = true;
      return restoreAnthropicEvent(chunk, parsed, channels);
    },
    // Channels end at a finish_reason or content_block_stop; anything still held (a cut stream's tail) goes here.
    onFlush: () => {
      const rest = channels.flushAll();
      if (rest === '') return [];
      if (!anthropicStream) return [{ event: null, data: JSON.stringify({ object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: rest }, finish_reason: null }] }) }];
      return [{ event: 'content_block_delta', data: JSON.stringify({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: rest } }) }];
    },
  };
}

function restoreOpenAIBody(body: Json, map: PlaceholderMap, finish: (text: string) => string): Json {
  for (const choice of body.choices as Json[]) {
    const message = choice.message as Json | undefined;
    if (!message) continue;
    if (typeof message.content === 'string') message.content = finish(message.content);
    for (const call of (message.tool_calls as Json[] | undefined) ?? []) {
      if (typeof call.function?.arguments === 'string') call.function.arguments = map.restore(call.function.arguments, escapeForJsonString);
    }
  }
  return body;
}

function restoreAnthropicBody(body: Json, map: PlaceholderMap, finish: (text: string) => string): Json {
  for (const block of (body.content as Json[] | undefined) ?? []) {
    if (block.type === 'text' && typeof block.text === 'string') block.text = finish(block.text);
    if (block.type === 'tool_use') block.input = restoreStrings(block.input, map);
  }
  return body;
}

/** Every string inside a JSON value (a tool call's parsed input). */
function restoreStrings(value: unknown, map: PlaceholderMap): unknown {
  if (typeof value === 'string') return map.restore(value);
  if (Array.isArray(value)) return value.map((item) => restoreStrings(item, map));
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, restoreStrings(item, map)]));
  return value;
}

/** The text channels of one stream, by key; tool-call and JSON channels restore originals JSON-escaped. */
class Channels {
  private readonly restorers = new Map<string, { restorer: StreamRestorer; json: boolean }>();

  constructor(
    private readonly map: PlaceholderMap,
    private readonly scanner: OutputScanner | null,
  ) {}

  get = (key: string, json: boolean): StreamRestorer => {
    let entry = this.restorers.get(key);
    if (!entry) this.restorers.set(key, (entry = { restorer: json ? new StreamRestorer(this.map, escapeForJsonString) : new StreamRestorer(this.map, undefined, this.scanner), json }));
    return entry.restorer;
  };

  /** Releases what the channels whose key starts with `prefix` hold (keys end in `:` or a name, so `1:` never matches `10:`). */
  release(prefix: string): Array<{ key: string; text: string; json: boolean }> {
    const released = [];
    for (const [key, entry] of this.restorers) {
      if (!key.startsWith(prefix) || !entry.restorer.holding) continue;
      released.push({ key, text: entry.restorer.flush(), json: entry.json });
    }
    return released;
  }

  flushAll(): string {
    return [...this.restorers.values()].map((entry) => entry.restorer.flush()).join('');
  }
}

/** A chunk's content and tool-call argument pieces, restored per choice and per tool call; a finish releases what is held. */
function restoreOpenAIStreamChunk(chunk: Json, channels: Channels): Json {
  const channel = channels.get;
  for (const choice of (chunk.choices as Json[] | undefined) ?? []) {
    const delta = (choice.delta ??= {}) as Json;
    const prefix = `${choice.index ?? 0}`;
    if (typeof delta.content === 'string') delta.content = channel(`${prefix}:content`, false).push(delta.content);
    for (const call of (delta.tool_calls as Json[] | undefined) ?? []) {
      if (typeof call.function?.arguments === 'string') call.function.arguments = channel(`${prefix}:tool:${call.index ?? 0}`, true).push(call.function.arguments);
    }
    if (choice.finish_reason != null) releaseChoice(delta, prefix, channels);
  }
  return chunk;
}

/** The choice finished: what its channels hold goes into this last delta (content, then each tool call's arguments). */
function releaseChoice(delta: Json, prefix: string, channels: Channels): void {
  for (const { key, text } of channels.release(`${prefix}:`)) {
    if (key === `${prefix}:content`) delta.content = (typeof delta.content === 'string' ? delta.content : '') + text;
    else ((delta.tool_calls ??= []) as Json[]).push({ index: Number(key.slice(key.lastIndexOf(':') + 1)), function: { arguments: text } });
  }
}

/** Anthropic's deltas are restored per content block; a block's stop is preceded by what it still held. */
function restoreAnthropicEvent(chunk: ResponseChunk, event: Json, channels: Channels): ResponseChunk[] {
  const channel = channels.get;
  const index = event.index ?? 0;
  if (event.type === 'content_block_delta') {
    const delta = event.delta as Json;
    if (delta?.type === 'text_delta' && typeof delta.text === 'string') delta.text = channel(`block:${index}:`, false).push(delta.text);
    else if (delta?.type === 'input_json_delta' && typeof delta.partial_json === 'string') delta.partial_json = channel(`block:${index}:`, true).push(delta.partial_json);
    return [{ ...chunk, data: JSON.stringify(event) }];
  }
  if (event.type === 'content_block_stop') {
    const [held] = channels.release(`block:${index}:`);
    if (!held) return [chunk];
    const delta = held.json ? { type: 'input_json_delta', partial_json: held.text } : { type: 'text_delta', text: held.text };
    return [{ event: 'content_block_delta', data: JSON.stringify({ type: 'content_block_delta', index, delta }) }, chunk];
  }
  return [chunk];
}

function parseJson(data: string): Json | null {
  try {
    const value = JSON.parse(data) as unknown;
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : null;
  } catch {
    return null;
  }
}
