// Routes a request by what it needs: prompt size, tools, images, requested reasoning effort.
import type { OpenAIChatRequest } from '../core/providers/openai/openai-chat-schemas';

export interface RequestFeatures {
  /** Estimated prompt tokens: UTF-8 bytes of all message text / 4 (the exact tokenizer comes with token-limit). */
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
  let bytes = 0;
  let hasImages = false;
  for (const message of request.messages) {
    const content = message.content;
    if (typeof content === 'string') bytes += Buffer.byteLength(content);
    else if (Array.isArray(content)) {
      for (const part of content as Array<Record<string, unknown>>) {
        if (typeof part.text === 'string') bytes += Buffer.byteLength(part.text);
        if (part.type === 'image_url') hasImages = true;
      }
    }
  }
  const raw = request as Record<string, unknown>;
  return {
    promptTokens: Math.ceil(bytes / 4),
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
