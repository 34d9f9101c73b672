// This node's in-memory ANN index (usearch HNSW) of one cache partition, kept in step with Redis.
import { Index, MetricKind, ScalarKind } from 'usearch';

export interface IndexedEntry {
  id: string;
  question: string;
  createdAt: number;
}

export interface Neighbour extends IndexedEntry {
  /** Cosine similarity to the query. */
  similarity: number;
}

export class PartitionIndex {
  private index: Index | null = null;
  private readonly byKey = new Map<bigint, IndexedEntry>();
  private readonly keyOfId = new Map<string, bigint>();
  private nextKey = 1n;
  /** Creation time (ms) of the newest entry seen in Redis: the next sync starts there. */
  syncedUntil = 0;
  /** When a lookup last used it: partitions idle longer than their entries live are dropped. */
  lastUsed = Date.now();

  constructor(private readonly maxEntries: number) {}

  get size(): number {
    return this.byKey.size;
  }

  has(id: string): boolean {
    return this.keyOfId.has(id);
  }

  add(entry: IndexedEntry, vector: Float32Array): void {
    this.addMany([{ entry, vector }]);
  }

  /** Adds entries in one native call (usearch spreads a batch over threads): how a node catches up. */
  addMany(items: Array<{ entry: IndexedEntry; vector: Float32Array }>): void {
    const fresh = items.filter((item) => !this.keyOfId.has(item.entry.id));
    if (fresh.length === 0) return;
    // Half-precision vectors: half the memory and a faster scan than f32 at 100k entries, the same top-1 recall,
    // and similarities within about 1e-3 (`make bench`; README).
    this.index ??= new Index({ dimensions: fresh[0]!.vector.length, metric: MetricKind.Cos, connectivity: 16, quantization: ScalarKind.F16, expansion_add: 128, expansion_search: 64, multi: false });
    const dimensions = this.index.dimensions();
    const usable = fresh.filter((item) => item.vector.length === dimensions); // another vector space: never compared
    if (usable.length === 0) return;
    const keys = new BigUint64Array(usable.length);
    const matrix = new Float32Array(usable.length * dimensions);
    usable.forEach((item, position) => {
      const key = this.nextKey;
      this.nextKey += 1n;
      keys[position] = key;
      matrix.set(item.vector, position * dimensions);
      this.byKey.set(key, item.entry);
      this.keyOfId.set(item.entry.id, key);
    });
    if (usable.length === 1) this.index.add(keys[0]!, usable[0]!.vector);
    else this.index.add(keys, matrix);
    // Entries Redis evicted for room are found stale only when searched: bound this copy the same way.
    while (this.byKey.size > this.maxEntries) this.remove(this.byKey.values().next().value!.id);
  }

  remove(id: string): void {
    const key = this.keyOfId.get(id);
    if (key === undefined) return;
    this.index?.remove(key);
    this.byKey.delete(key);
    this.keyOfId.delete(id);
  }

  /** Up to `count` nearest entries younger than `maxAgeMs`, most similar first; older ones are dropped. */
  nearest(vector: Float32Array, count: number, maxAgeMs: number, now = Date.now()): Neighbour[] {
    this.lastUsed = now;
    if (this.index === null || this.byKey.size === 0 || this.index.dimensions() !== vector.length) return [];
    const matches = this.index.search(vector, Math.min(count, this.byKey.size), 0);
    const found: Neighbour[] = [];
    matches.keys.forEach((key, index) => {
      const entry = this.byKey.get(key);
      if (entry === undefined) return;
      if (now - entry.createdAt >= maxAgeMs) return this.remove(entry.id);
      // usearch's cosine distance is 1 - similarity.
      found.push({ ...entry, similarity: 1 - matches.distances[index]! });
    });
    return found;
  }
}

/** Every partition this node has seen, least recently used first; idle ones go when there are too many. */
export class PartitionIndexes {
  private readonly partitions = new Map<string, PartitionIndex>();

  constructor(private readonly maxPartitions = 10_000) {}

  /** The partition's index (created empty); partitions unused for `idleMs` (their entries all expired) go. */
  get(name: string, maxEntries: number, idleMs: number, now = Date.now()): PartitionIndex {
    let partition = this.partitions.get(name);
    if (partition) this.partitions.delete(name);
    else partition = new PartitionIndex(maxEntries);
    partition.lastUsed = now;
    this.partitions.set(name, partition);
    // Least recently used first: the oldest idle ones, and any beyond the cap, are at the front.
    for (const [oldName, old] of this.partitions) {
      if (this.partitions.size <= this.maxPartitions && now - old.lastUsed < idleMs) break;
      this.partitions.delete(oldName);
    }
    return partition;
  }

  clear(): void {
    this.partitions.clear();
  }
}
