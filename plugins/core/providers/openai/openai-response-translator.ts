// OpenAI to OpenAI: the answer passes unchanged; only usage and text are read from it.
import type { ServerSentEvent } from '../../http/server-sent-events';
import type { ClientEvent, ResponseTranslator, TranslatedBody } from '../response-translator';
import { mapOpenAIUsage } from './map-openai-usage';
import type { TokenUsage } from '../token-usage';
import { openAIChatChunk, openAIChatResponse } from './openai-chat-schemas';
import { parseJson } from '../../http/parse-json';

export class OpenAIResponseTranslator implements ResponseTranslator {
  usage: TokenUsage | null = null;
  text = '';

  translateBody(body: string): TranslatedBody {
    const parsed = openAIChatResponse.safeParse(parseJson(body));
    if (!parsed.success) return { body, usage: null, text: '' };
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
    const chunk = openAIChatChunk.safeParse(parseJson(event.data));
    if (!chunk.success) return [{ ...event, kind: 'content' }];
    if (chunk.data.usage) this.usage = mapOpenAIUsage(chunk.data.usage);
    for (const choice of chunk.data.choices) this.text += choice.delta?.content ?? '';
    const usageOnly = chunk.data.choices.length === 0 && chunk.data.usage;
    return [{ ...event, kind: usageOnly ? 'usage' : 'content' }];
  }
}
