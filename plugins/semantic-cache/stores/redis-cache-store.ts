// Cache entries in Redis, shared by every Kong node: one partition per scope, embedder and context.
import { randomBytes } from 'node:crypto';
import type { ChainableCommander } from 'ioredis';
import { redisClientFor, whenReady, type RedisClient } from '../../core/redis/redis-client';
import type { RedisConfig } from '../../core/redis/redis-config';
import type { CachedAnswer } from '../../core/connector/replay-answer';
import type { PartitionKeys } from '../partition-keys';
import { EXACT_SCRIPT, INSERT_SCRIPT } from './cache-scripts';

/** An answer as stored (redacted when pii-redact ran first), with the question it answers. */
export interface StoredEntry {
  question: string;
  answer: CachedAnswer;
  /** When the storing node stored it (its clock): for freshness and the Age header. */
  createdAt: number;
}

/** What a node indexes of an entry: kept apart from the answer, so catching up never moves answers. */
export interface StoredVector {
  question: string;
  vector: Float32Array;
  createdAt: number;
}

type ScriptClient = RedisClient & {
  semanticCacheInsert(keyCount: number, ...args: Array<string | number>): Promise<number>;
};

/**
 * The most new entries one lookup adds to this node's index (oldest first; later lookups take the rest).
 * Indexing is synchronous native work, about half a millisecond per entry in a batch at 10k entries of 512
 * dimensions (`make bench`), so a node joining a full partition catches up in slices, not in one long stall.
 */
const CATCH_UP_BATCH = 64;

export class RedisCacheStore {
  constructor(
    private readonly client: ScriptClient,
    private readonly timeoutMs: number,
  ) {}

  /**
   * One round trip: the exact match for the question (if any) and, when `sinceScore` is given, up to
   * CATCH_UP_BATCH ids stored since that score (inclusive: two entries may share a millisecond).
   */
  async begin(partition: PartitionKeys, questionHash: string, sinceScore: number | null): Promise<{ exact: { id: string; entry: StoredEntry } | null; changes: Array<{ id: string; score: number }> }> {
    await whenReady(this.client, this.timeoutMs);
    const [z, e, x] = keysOf(partition);
    let pipeline = (this.client.pipeline() as ChainableCommander & { semanticCacheExact(keyCount: number, ...args: string[]): ChainableCommander }).semanticCacheExact(3, z, e, x, questionHash);
    if (sinceScore !== null) pipeline = pipeline.zrangebyscore(z, sinceScore, '+inf', 'WITHSCORES', 'LIMIT', 0, CATCH_UP_BATCH);
    const replies = await pipeline.exec();
    if (replies === null) throw new Error('redis pipeline aborted');
    for (const [error] of replies) if (error) throw error;
    const exactReply = replies[0]![1] as [string, string] | null;
    const flat = (replies[1]?.[1] ?? []) as string[];
    const changes: Array<{ id: string; score: number }> = [];
    for (let index = 0; index < flat.length; index += 2) changes.push({ id: flat[index]!, score: Number(flat[index + 1]) });
    return { exact: exactReply ? { id: exactReply[0], entry: decodeEntry(exactReply[1]) } : null, changes };
  }

  /** The vectors of these ids, in order; null for those gone (expired, evicted or purged). */
  async vectors(partition: PartitionKeys, ids: string[]): Promise<Array<StoredVector | null>> {
    if (ids.length === 0) return [];
    await whenReady(this.client, this.timeoutMs);
    const values = await this.client.hmget(keysOf(partition)[3], ...ids);
    return values.map((value) => (value === null ? null : decodeVector(value)));
  }

  /** The entry of an id; null when it is gone. */
  async entry(partition: PartitionKeys, id: string): Promise<StoredEntry | null> {
    await whenReady(this.client, this.timeoutMs);
    const value = await this.client.hget(keysOf(partition)[1], id);
    return value === null ? null : decodeEntry(value);
  }

  /** Stores an entry (and its vector, for `semantic` matching); returns its id and its score. */
  async insert(partition: PartitionKeys, questionHash: string, entry: StoredEntry, vector: Float32Array | null, ttlMs: number, maxEntries: number): Promise<{ id: string; score: number }> {
    await whenReady(this.client, this.timeoutMs);
    const id = `${questionHash}.${randomBytes(6).toString('hex')}`;
    // Listed in its scope first (another slot, so a command of its own): a purge then never misses a partition.
    // Its expiry only ever grows (GT, or NX when it has none): an instance with a shorter ttl cannot cut it.
    await this.client.multi().sadd(partition.scopeSet, partition.name).pexpire(partition.scopeSet, ttlMs, 'GT').pexpire(partition.scopeSet, ttlMs, 'NX').exec();
    const encodedVector = vector === null ? '' : JSON.stringify({ q: entry.question, v: Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength).toString('base64'), t: entry.createdAt });
    const score = await this.client.semanticCacheInsert(4, ...keysOf(partition), id, questionHash, encodeEntry(entry), encodedVector, ttlMs, maxEntries);
    return { id, score: Number(score) };
  }

  /** Deletes every entry of a scope (all its partitions); returns how many partitions went. */
  async purge(scopeSet: string): Promise<number> {
    await whenReady(this.client, this.timeoutMs);
    const partitions = await this.client.smembers(scopeSet);
    for (const name of partitions) await this.client.del(...keysOf({ name, scopeSet }));
    await this.client.del(scopeSet);
    return partitions.length;
  }
}

/** semantic-cache's own connection: a slow catch-up never queues token-limit's scripts behind it. */
export function redisCacheStoreFor(config: RedisConfig): RedisCacheStore {
  const client = redisClientFor(config, 'semantic-cache', { semanticCacheExact: EXACT_SCRIPT, semanticCacheInsert: INSERT_SCRIPT });
  return new RedisCacheStore(client as ScriptClient, config.timeout_ms);
}

function keysOf(partition: PartitionKeys): [string, string, string, string] {
  return [`${partition.name}:z`, `${partition.name}:e`, `${partition.name}:x`, `${partition.name}:v`];
}

function encodeEntry(entry: StoredEntry): string {
  return JSON.stringify({ q: entry.question, a: entry.answer, t: entry.createdAt });
}

function decodeEntry(json: string): StoredEntry {
  const raw = JSON.parse(json) as { q: string; a: CachedAnswer; t: number };
  return { question: raw.q, answer: raw.a, createdAt: raw.t };
}

function decodeVector(json: string): StoredVector {
  const raw = JSON.parse(json) as { q: string; v: string; t: number };
  // Copied into an aligned buffer: a Float32Array view needs an offset that is a multiple of 4.
  const vector = new Float32Array(new Uint8Array(Buffer.from(raw.v, 'base64')).buffer);
  return { question: raw.q, vector, createdAt: raw.t };
}
