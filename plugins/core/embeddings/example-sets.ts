// How close a text is to each of several sets of example texts (prompt-guard's deny topics, llm-proxy's semantic routes).
import { embedWithin, type Embedder } from './embedder';
import { cosineSimilarity } from './vectors';

/** How much of each end of a long text is embedded: a sentence embedding of a long text blurs any one request in it. */
export const EMBEDDED_CHARACTERS = 2000;

/** The examples' vectors, embedded once per embedder and set list (configs are re-created often). */
const exampleVectors = new Map<string, Promise<Float32Array[][]>>();

function vectorsOf(embedder: Embedder, sets: string[][], timeoutMs: number): Promise<Float32Array[][]> {
  const key = JSON.stringify([embedder.name, sets]);
  let vectors = exampleVectors.get(key);
  if (!vectors) {
    // A generous bound: the first request of a process may also wait for the model to load.
    vectors = Promise.all(sets.map((examples) => embedWithin(embedder, examples, Math.max(timeoutMs, 30_000))));
    exampleVectors.set(key, vectors);
    vectors.catch(() => exampleVectors.delete(key)); // a failure is retried by the next request
  }
  return vectors;
}

/**
 * The highest cosine similarity between the text and any example of each set, in set order. A text longer
 * than EMBEDDED_CHARACTERS is embedded at both ends, so filler on either side cannot hide what it asks.
 */
export async function similarityToExampleSets(text: string, sets: string[][], embedder: Embedder, timeoutMs: number): Promise<number[]> {
  const parts = text.length <= EMBEDDED_CHARACTERS ? [text] : [text.slice(0, EMBEDDED_CHARACTERS), text.slice(-EMBEDDED_CHARACTERS)];
  const [examples, vectors] = await Promise.all([vectorsOf(embedder, sets, timeoutMs), embedWithin(embedder, parts, timeoutMs)]);
  return examples.map((set) => Math.max(...vectors.flatMap((vector) => set.map((example) => cosineSimilarity(vector, example)))));
}
