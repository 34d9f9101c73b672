// For Anthropic SDK clients: wraps a provider translator and turns its OpenAI-shaped answer into Anthropic's.
import type { ServerSentEvent } from '../../http/server-sent-events';
import { parseJson } from '../../http/parse-json';
import type { TokenUsage } from '../token-usage';
import type { ClientEvent, ResponseTranslator, TranslatedBody } from '../response-translator';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** OpenAI finish_reason -> Anthropic stop_reason. */
const STOP_REASONS: Record<string, string> = { stop: 'end_turn', length: 'max_tokens', tool_calls: 'tool_use', function_call: 'tool_use', content_filter: 'refusal' };

/** OpenAI error types -> Anthropic error types. */
const ERROR_TYPES: Record<string, string> = {
  invalid_request_error: 'invalid_request_error',
  authentication_error: 'authentication_error',
  permission_error: 'permission_error',
  rate_limit_error: 'rate_limit_error',
  requests: 'rate_limit_error',
  tokens: 'rate_limit_error',
  server_error: 'api_error',
  service_unavailable: 'overloaded_error',
};

export class AnthropicClientTranslator implements ResponseTranslator {
  private started = false;
  /** The open content block: its Anthropic index and what it is (text, or the tool call's OpenAI index). */
  private openBlock: { index: number; kind: 'text' } | { index: number; kind: 'tool'; toolCallIndex: number } | null = null;
  private nextBlockIndex = 0;
  private stopReason = 'end_turn';

  constructor(
    private readonly inner: ResponseTranslator,
    private readonly model: string,
  ) {}

  get usage(): TokenUsage | null {
    return this.inner.usage;
  }

  get text(): string {
    return this.inner.text;
  }

  get finishReason(): string | null {
    return this.inner.finishReason;
  }

  translateBody(body: string): TranslatedBody {
    const translated = this.inner.translateBody(body);
    const completion = parseJson(translated.body) as Json;
    const choice = completion.choices?.[0] ?? {};
    const content: Json[] = [];
    if (typeof choice.message?.content === 'string' && choice.message.content !== '') content.push({ type: 'text', text: choice.message.content });
    for (const call of choice.message?.tool_calls ?? []) {
      content.push({ type: 'tool_use', id: call.id, name: call.function?.name, input: parseJson(call.function?.arguments || '{}') ?? {} });
    }
    const message = {
      id: anthropicId(completion.id),
      type: 'message',
      role: 'assistant',
      model: completion.model ?? this.model,
      content,
      stop_reason: STOP_REASONS[choice.finish_reason] ?? 'end_turn',
      stop_sequence: null,
      usage: anthropicUsage(translated.usage),
    };
    return { ...translated, body: JSON.stringify(message) };
  }

  translateError(status: number, body: string): string {
    const error = (parseJson(this.inner.translateError(status, body)) as Json | undefined)?.error ?? {};
    return JSON.stringify({ type: 'error', error: { type: ERROR_TYPES[error.type] ?? (status >= 500 ? 'api_error' : 'invalid_request_error'), message: String(error.message ?? `The provider answered ${status}.`) } });
  }

  translateEvent(event: ServerSentEvent): ClientEvent[] {
    return this.fromOpenAI(this.inner.translateEvent(event));
  }

  translateEnd(): ClientEvent[] {
    return this.fromOpenAI(this.inner.translateEnd?.() ?? []);
  }

  private fromOpenAI(openAIEvents: ClientEvent[]): ClientEvent[] {
    const out: ClientEvent[] = [];
    for (const openAIEvent of openAIEvents) {
      if (openAIEvent.kind === 'done') {
        out.push(...this.closeBlock());
        out.push(named('message_delta', { type: 'message_delta', delta: { stop_reason: this.stopReason, stop_sequence: null }, usage: anthropicUsage(this.inner.usage) }));
        out.push({ ...named('message_stop', { type: 'message_stop' }), kind: 'done' });
        continue;
      }
      if (openAIEvent.kind === 'usage') continue; // Anthropic carries usage in message_delta
      const chunk = parseJson(openAIEvent.data) as Json | undefined;
      const choice = chunk?.choices?.[0];
      if (!this.started) {
        this.started = true;
        const message = { id: anthropicId(chunk?.id), type: 'message', role: 'assistant', model: chunk?.model ?? this.model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 0, output_tokens: 0 } };
        out.push(named('message_start', { type: 'message_start', message }));
      }
      if (!choice) continue;
      const delta = choice.delta ?? {};
      if (typeof delta.content === 'string' && delta.content !== '') {
        if (this.openBlock?.kind !== 'text') out.push(...this.closeBlock(), ...this.openTextBlock());
        out.push(named('content_block_delta', { type: 'content_block_delta', index: this.openBlock!.index, delta: { type: 'text_delta', text: delta.content } }));
      }
      for (const call of delta.tool_calls ?? []) {
        const isNew = this.openBlock?.kind !== 'tool' || this.openBlock.toolCallIndex !== call.index;
        if (isNew) {
          out.push(...this.closeBlock());
          const index = this.nextBlockIndex++;
          this.openBlock = { index, kind: 'tool', toolCallIndex: call.index };
          out.push(named('content_block_start', { type: 'content_block_start', index, content_block: { type: 'tool_use', id: call.id ?? `toolu_${index}`, name: call.function?.name ?? '', input: {} } }));
        }
        const fragment = call.function?.arguments;
        if (typeof fragment === 'string' && fragment !== '') {
          out.push(named('content_block_delta', { type: 'content_block_delta', index: this.openBlock!.index, delta: { type: 'input_json_delta', partial_json: fragment } }));
        }
      }
      if (choice.finish_reason) this.stopReason = STOP_REASONS[choice.finish_reason] ?? 'end_turn';
    }
    return out;
  }

  private openTextBlock(): ClientEvent[] {
    const index = this.nextBlockIndex++;
    this.openBlock = { index, kind: 'text' };
    return [named('content_block_start', { type: 'content_block_start', index, content_block: { type: 'text', text: '' } })];
  }

  private closeBlock(): ClientEvent[] {
    if (this.openBlock === null) return [];
    const { index } = this.openBlock;
    this.openBlock = null;
    return [named('content_block_stop', { type: 'content_block_stop', index })];
  }
}

function named(event: string, data: Json): ClientEvent {
  return { event, data: JSON.stringify(data), kind: 'content' };
}

/** Anthropic SDKs expect `msg_` ids; an OpenAI id keeps its identity behind the prefix. */
function anthropicId(id: unknown): string {
  const text = typeof id === 'string' && id !== '' ? id : `${Date.now()}`;
  return text.startsWith('msg_') ? text : `msg_${text}`;
}

/** Our usage counts cache reads inside input tokens; Anthropic's input_tokens excludes them. */
function anthropicUsage(usage: TokenUsage | null): Json {
  if (!usage) return { input_tokens: 0, output_tokens: 0 };
  return { input_tokens: usage.input_tokens - usage.cached_input_tokens, output_tokens: usage.output_tokens, cache_read_input_tokens: usage.cached_input_tokens, cache_creation_input_tokens: 0 };
}
