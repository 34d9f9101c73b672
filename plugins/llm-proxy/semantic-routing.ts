// Routes a chat request by what it is about: the route whose examples its last user message is closest to.
import type { Embedder } from '../core/embeddings/embedder';
import { similarityToExampleSets } from '../core/embeddings/example-sets';
import type { OpenAIChatRequest } from '../core/providers/openai/openai-chat-schemas';

export interface SemanticRoute {
  name: string;
  examples: string[];
  threshold: number;
  targets: string[];
}

/** The text a request is routed by: its last user message's text parts. */
export function routingText(request: OpenAIChatRequest): string {
  const last = request.messages.filter((message) => message.role === 'user').at(-1);
  if (last === undefined) return '';
  if (typeof last.content === 'string') return last.content;
  return (last.content ?? []).map((part) => (part.type === 'text' && typeof part.text === 'string' ? part.text : '')).join('\n');
}

/** The most similar route at or above its threshold, with its similarity; null when none is. */
export async function matchSemanticRoute(request: OpenAIChatRequest, routes: readonly SemanticRoute[], embedder: Embedder, timeoutMs: number): Promise<{ route: SemanticRoute; similarity: number } | null> {
  const text = routingText(request);
  if (routes.length === 0 || text.trim() === '') return null;
  const similarities = await similarityToExampleSets(text, routes.map((route) => route.examples), embedder, timeoutMs);
  let best: { route: SemanticRoute; similarity: number } | null = null;
  routes.forEach((route, index) => {
    const similarity = similarities[index]!;
    if (similarity >= route.threshold && (best === null || similarity > best.similarity)) best = { route, similarity };
  });
  return best;
}
