// Finds a cached answer for a question: exact match first, then the nearest questions by meaning, behind the guards.
import type { RedisCacheStore, StoredEntry } from './stores/redis-cache-store';
import type { PartitionKeys } from './partition-keys';
import type { PartitionIndex } from './partition-index';
import { differingSpecifics, specificsOf } from './same-specifics';

export interface LookupSettings {
  threshold: number;
  guardSpecifics: boolean;
  ttlMs: number;
}

export interface Question {
  text: string;
  /** The exact-match key: the first 16 hex digits of the question's sha256 (the text itself is compared too). */
  hash: string;
  /** The request's output cap: a longer cached answer is not served. */
  maxOutputTokens: number | null;
}

/** How to match by meaning; null for exact matching only. */
export interface SemanticSearch {
  index: PartitionIndex;
  embed: (text: string) => Promise<Float32Array>;
}

export type LookupOutcome =
  | { status: 'Hit' | 'Semantic-Hit'; entry: StoredEntry; similarity: number }
  /** `vector` is the question's embedding, kept to store the answer under it. */
  | { status: 'Miss'; vector: Float32Array | null };

/** Neighbours checked per lookup: the first that clears threshold and guards wins. */
const CANDIDATES = 4;

export async function lookup(store: RedisCacheStore, partition: PartitionKeys, question: Question, settings: LookupSettings, semantic: SemanticSearch | null, now = Date.now()): Promise<LookupOutcome> {
  const { exact, changes } = await store.begin(partition, question.hash, semantic ? semantic.index.syncedUntil : null);
  if (exact && exact.entry.question === question.text && fresh(exact.entry, settings, now) && fits(exact.entry, question)) {
    return { status: 'Hit', entry: exact.entry, similarity: 1 };
  }
  if (semantic === null) return { status: 'Miss', vector: null };
  const { index, embed } = semantic;
  // Embedding (worker thread) and catching up with entries other nodes stored (Redis) overlap.
  const unseen = changes.filter((change) => !index.has(change.id));
  const [vector, vectors] = await Promise.all([embed(question.text), store.vectors(partition, unseen.map((change) => change.id))]);
  index.addMany(vectors.flatMap((stored, position) => (stored ? [{ entry: { id: unseen[position]!.id, question: stored.question, createdAt: stored.createdAt }, vector: stored.vector }] : [])));
  // Ids whose vectors are gone were evicted meanwhile: the cursor moves past them all the same.
  for (const change of changes) index.syncedUntil = Math.max(index.syncedUntil, change.score);
  // A full slice of entries all known and all of one millisecond would be asked for again forever: step past it.
  if (unseen.length === 0 && changes.length > 0 && changes.every((change) => change.score === index.syncedUntil)) index.syncedUntil += 1;
  const asked = settings.guardSpecifics ? specificsOf(question.text) : null;
  for (const neighbour of index.nearest(vector, CANDIDATES, settings.ttlMs, now)) {
    if (!(neighbour.similarity >= settings.threshold)) break;
    if (asked !== null && differingSpecifics(asked, specificsOf(neighbour.question)) !== null) continue;
    const entry = await store.entry(partition, neighbour.id);
    if (!entry) {
      index.remove(neighbour.id); // expired, evicted or purged in Redis
      continue;
    }
    if (fresh(entry, settings, now) && fits(entry, question)) return { status: 'Semantic-Hit', entry, similarity: neighbour.similarity };
  }
  return { status: 'Miss', vector };
}

function fresh(entry: StoredEntry, settings: LookupSettings, now: number): boolean {
  return now - entry.createdAt < settings.ttlMs;
}

function fits(entry: StoredEntry, question: Question): boolean {
  const written = entry.answer.usage?.output_tokens;
  return question.maxOutputTokens === null || written === undefined || written <= question.maxOutputTokens;
}
