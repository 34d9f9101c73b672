// Routes a request by what it needs: prompt size, tools, images, requested reasoning effort.
import type { OpenAIChatRequest } from '../core/providers/openai/openai-chat-schemas';
import { countChatPromptTokens } from '../core/tokens/count-prompt-tokens';
import { tokenCounterFor } from '../core/tokens/token-counter';

/** The targets are not chosen yet, so prompts are measured with o200k (GPT-4o and later), framing included. */
const ROUTING_COUNTER = tokenCounterFor('openai', 'gpt-4o');

export interface RequestFeatures {
  /** Prompt tokens by o200k with OpenAI's chat framing (images at their reserved size). */
  promptTokens: number;
  hasTools: boolean;
  hasImages: boolean;
  reasoningEffort: string | null;
}

export interface ComplexityRule {
  name: string;
  min_prompt_tokens?: number | undefined;
  max_prompt_tokens?: number | undefined;
  tools?: boolean | undefined;
  images?: boolean | undefined;
  reasoning_effort?: string[] | undefined;
  targets: string[];
}

export function describeRequest(request: OpenAIChatRequest): RequestFeatures {
  const hasImages = request.messages.some((message) => Array.isArray(message.content) && message.content.some((part) => part.type === 'image_url'));
  const raw = request as Record<string, unknown>;
  return {
    promptTokens: countChatPromptTokens(request, ROUTING_COUNTER),
    hasTools: Array.isArray(raw.tools) && raw.tools.length > 0,
    hasImages,
    reasoningEffort: typeof raw.reasoning_effort === 'string' ? raw.reasoning_effort : null,
  };
}

/** The first rule whose every stated condition holds; unstated conditions match anything. */
export function matchComplexityRule(features: RequestFeatures, rules: readonly ComplexityRule[]): ComplexityRule | null {
  return (
    rules.find(
      (rule) =>
        (rule.min_prompt_tokens === undefined || features.promptTokens >= rule.min_prompt_tokens) &&
        (rule.max_prompt_tokens === undefined || features.promptTokens <= rule.max_prompt_tokens) &&
        (rule.tools === undefined || rule.tools === features.hasTools) &&
        (rule.images === undefined || rule.images === features.hasImages) &&
        (rule.reasoning_effort === undefined || (features.reasoningEffort !== null && rule.reasoning_effort.includes(features.reasoningEffort))),
    ) ?? null
  );
}
