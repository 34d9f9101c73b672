// OpenAI to OpenAI: the answer passes unchanged; only usage and text are read from it.
import type { ServerSentEvent } from '../../http/server-sent-events';
import type { ClientEvent, ResponseTranslator, TranslatedBody } from '../response-translator';
import { mapOpenAIUsage } from './map-openai-usage';
import type { TokenUsage } from '../token-usage';
import { openAIChatChunk, openAIChatResponse } from './openai-chat-schemas';
import { parseJson } from '../../http/parse-json';
import { GatewayError } from '../../errors';

export class OpenAIResponseTranslator implements ResponseTranslator {
  usage: TokenUsage | null = null;
  text = '';
  private reportedFinish: string | null = null;
  private calledTools = false;

  /** The answer's finish reason; `tool_calls` whenever it called tools, even from servers that report `stop` then. */
  get finishReason(): string | null {
    return this.calledTools && this.reportedFinish !== null ? 'tool_calls' : this.reportedFinish;
  }

  translateBody(body: string): TranslatedBody {
    const parsed = openAIChatResponse.safeParse(parseJson(body));
    if (!parsed.success) throw malformedAnswer();
    this.reportedFinish = parsed.data.choices[0]?.finish_reason ?? null;
    this.calledTools = parsed.data.choices.some((choice) => (choice.message?.tool_calls?.length ?? 0) > 0);
    return {
      body,
      usage: parsed.data.usage ? mapOpenAIUsage(parsed.data.usage) : null,
      text: parsed.data.choices.map((choice) => choice.message?.content ?? '').join(''),
    };
  }

  translateError(_status: number, body: string): string {
    return body;
  }

  translateEvent(event: ServerSentEvent): ClientEvent[] {
    if (event.data === '[DONE]') return [{ ...event, kind: 'done' }];
    const json = parseJson(event.data);
    // A provider's in-stream error event, as OpenAI sends it: the stream failed.
    const providerError = (json as { error?: { message?: unknown } } | undefined)?.error;
    if (providerError) throw new GatewayError(String(providerError.message ?? 'The provider failed mid-stream.'), { status: 502, type: 'server_error', code: 'upstream_stream_error' });
    if (json === undefined) throw malformedAnswer();
    // Valid JSON of another shape (a server's extension event): passed on, not counted.
    const chunk = openAIChatChunk.safeParse(json);
    if (!chunk.success) return [{ ...event, kind: 'content' }];
    if (chunk.data.usage) this.usage = mapOpenAIUsage(chunk.data.usage);
    for (const choice of chunk.data.choices) {
      this.text += choice.delta?.content ?? '';
      if (choice.finish_reason) this.reportedFinish = choice.finish_reason;
      if ((choice.delta?.tool_calls?.length ?? 0) > 0) this.calledTools = true;
    }
    const usageOnly = chunk.data.choices.length === 0 && chunk.data.usage;
    return [{ ...event, kind: usageOnly ? 'usage' : 'content' }];
  }
}

/** A 2xx answer we cannot read: a provider fault, never passed on to the client as if it were an answer. */
export function malformedAnswer(): GatewayError {
  return new GatewayError('The provider sent an answer that could not be read.', { status: 502, type: 'server_error', code: 'upstream_malformed' });
}
