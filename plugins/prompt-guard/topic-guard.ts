// Semantic deny topics: a prompt whose embedding is close to an operator's example of a denied topic.
import type { Embedder } from '../core/embeddings/embedder';
import { similarityToExampleSets } from '../core/embeddings/example-sets';
import type { Trip } from './guard-layers';

export interface DenyTopic {
  name: string;
  examples: string[];
  threshold: number;
}

export async function checkDenyTopics(prompt: string, topics: DenyTopic[], embedder: Embedder, timeoutMs: number): Promise<Trip | null> {
  if (topics.length === 0 || prompt.trim() === '') return null;
  const similarities = await similarityToExampleSets(prompt, topics.map((topic) => topic.examples), embedder, timeoutMs);
  let best: Trip | null = null;
  topics.forEach((topic, index) => {
    const similarity = similarities[index]!;
    if (similarity >= topic.threshold && (best === null || similarity > best.score!)) best = { layer: 'topic', reason: `similar to deny topic ${topic.name}`, score: similarity, text: prompt };
  });
  return best;
}
