// Embeddings answers pass unchanged (OpenAI's shape, which Azure and Mistral share); only usage is read.
import { GatewayError } from '../../errors';
import type { ServerSentEvent } from '../../http/server-sent-events';
import { parseJson } from '../../http/parse-json';
import type { ClientEvent, ResponseTranslator, TranslatedBody } from '../response-translator';
import type { TokenUsage } from '../token-usage';
import { openAIEmbeddingsResponse } from './openai-embeddings-schemas';
import { malformedAnswer } from './openai-response-translator';

export class OpenAIEmbeddingsTranslator implements ResponseTranslator {
  usage: TokenUsage | null = null;
  readonly text = '';
  readonly finishReason = null;

  translateBody(body: string): TranslatedBody {
    const parsed = openAIEmbeddingsResponse.safeParse(parseJson(body));
    if (!parsed.success) throw malformedAnswer();
    const usage = parsed.data.usage;
    this.usage = usage ? { input_tokens: usage.prompt_tokens, output_tokens: 0, total_tokens: usage.total_tokens, cached_input_tokens: 0, reasoning_tokens: 0 } : null;
    return { body, usage: this.usage, text: '' };
  }

  translateError(_status: number, body: string): string {
    return body;
  }

  translateEvent(_event: ServerSentEvent): ClientEvent[] {
    throw new GatewayError('Embeddings are never streamed.', { status: 502, type: 'server_error', code: 'upstream_malformed' });
  }
}
