// Picks the translator for a provider's wire format (the client side speaks OpenAI for now).
import { AnthropicResponseTranslator } from './anthropic/anthropic-response-translator';
import { OpenAIResponseTranslator } from './openai/openai-response-translator';
import { MistralResponseTranslator } from './mistral/mistral-response-translator';
import type { ResponseTranslator, WireFormat } from './response-translator';

export function createResponseTranslator(wireFormat: WireFormat): ResponseTranslator {
  switch (wireFormat) {
    case 'openai':
      return new OpenAIResponseTranslator();
    case 'anthropic':
      return new AnthropicResponseTranslator();
    case 'mistral':
      return new MistralResponseTranslator();
  }
}
