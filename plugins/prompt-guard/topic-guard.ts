// Semantic deny topics: a prompt whose embedding is close to an operator's example of a denied topic.
import { embedWithin, type Embedder } from '../core/embeddings/embedder';
import { cosineSimilarity } from '../core/embeddings/vectors';
import type { Trip } from './guard-layers';

export interface DenyTopic {
  name: string;
  examples: string[];
  threshold: number;
}

/** The examples' vectors, embedded once per embedder and topic list (configs are re-created often). */
const exampleVectors = new Map<string, Promise<Float32Array[][]>>();

function vectorsOf(embedder: Embedder, topics: DenyTopic[], timeoutMs: number): Promise<Float32Array[][]> {
  const key = JSON.stringify([embedder.name, topics.map((topic) => topic.examples)]);
  let vectors = exampleVectors.get(key);
  if (!vectors) {
    // A generous bound: the first request of a process may also wait for the model to load.
    vectors = Promise.all(topics.map((topic) => embedWithin(embedder, topic.examples, Math.max(timeoutMs, 30_000))));
    exampleVectors.set(key, vectors);
    vectors.catch(() => exampleVectors.delete(key)); // a failure is retried by the next request
  }
  return vectors;
}

/**
 * How much of each end of the prompt is embedded: USE-lite takes about 125 ms for 1,000 characters and 185 ms
 * for 8,000 on one core, and a sentence embedding of a long text blurs any one request in it anyway.
 */
export const EMBEDDED_CHARACTERS = 2000;

export async function checkDenyTopics(prompt: string, topics: DenyTopic[], embedder: Embedder, timeoutMs: number): Promise<Trip | null> {
  if (topics.length === 0 || prompt.trim() === '') return null;
  // A long prompt is embedded at both ends: filler on either side cannot hide the request.
  const parts = prompt.length <= EMBEDDED_CHARACTERS ? [prompt] : [prompt.slice(0, EMBEDDED_CHARACTERS), prompt.slice(-EMBEDDED_CHARACTERS)];
  const [examples, vectors] = await Promise.all([vectorsOf(embedder, topics, timeoutMs), embedWithin(embedder, parts, timeoutMs)]);
  let best: Trip | null = null;
  topics.forEach((topic, index) => {
    const similarity = Math.max(...vectors.flatMap((vector) => examples[index]!.map((example) => cosineSimilarity(vector, example))));
    if (similarity >= topic.threshold && (best === null || similarity > best.score!)) best = { layer: 'topic', reason: `similar to deny topic ${topic.name}`, score: similarity, text: prompt };
  });
  return best;
}
