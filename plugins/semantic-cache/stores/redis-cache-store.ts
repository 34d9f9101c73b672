// Cache entries in Redis, shared by every Kong node: one partition per scope, embedder and context.
import { randomBytes } from 'node:crypto';
import type { ChainableCommander } from 'ioredis';
import { redisClientFor, whenReady, type RedisClient } from '../../core/redis/redis-client';
import type { RedisConfig } from '../../core/redis/redis-config';
import type { CachedAnswer } from '../../core/connector/replay-answer';
import { EXACT_SCRIPT, INSERT_SCRIPT } from './cache-scripts';
import type { PartitionKeys } from '../partition-keys';

/** What is stored per question: the embedding (absent for `match: exact`), the question and the answer, all redacted. */
export interface StoredEntry {
  question: string;
  vector: Float32Array | null;
  answer: CachedAnswer;
  createdAt: number;
}

type ScriptClient = RedisClient & {
  semanticCacheExact(keyCount: number, ...args: string[]): Promise<[string, string] | null>;
  semanticCacheInsert(keyCount: number, ...args: Array<string | number>): Promise<number>;
};

/** Entries fetched per HMGET while a node catches up with a partition. */
const FETCH_BATCH = 256;

/**
 * The most new entries one lookup adds to this node's index (oldest first; later lookups take the rest).
 * Indexing is synchronous native work, about a millisecond per entry at 10k entries of 512 dimensions
 * (`make bench`), so a node joining a full partition catches up in slices instead of stalling its event loop.
 */
const CATCH_UP_BATCH = 200;

export class RedisCacheStore {
  constructor(
    private readonly client: ScriptClient,
    private readonly timeoutMs: number,
  ) {}

  /**
   * One round trip: the exact match for the question (if any), and up to CATCH_UP_BATCH ids added to the
   * partition since `sinceMs` (inclusive: two entries may share a millisecond), for this node's index.
   */
  async begin(partition: PartitionKeys, questionHash: string, sinceMs: number): Promise<{ exact: { id: string; entry: StoredEntry } | null; changes: Array<{ id: string; createdAt: number }> }> {
    await whenReady(this.client, this.timeoutMs);
    const [z, e, x] = keysOf(partition);
    const pipeline = this.client.pipeline() as ChainableCommander & { semanticCacheExact(keyCount: number, ...args: string[]): ChainableCommander };
    const replies = await pipeline
      .semanticCacheExact(3, z, e, x, questionHash)
      .zrangebyscore(z, sinceMs, '+inf', 'WITHSCORES', 'LIMIT', 0, CATCH_UP_BATCH)
      .exec();
    if (replies === null) throw new Error('redis pipeline aborted');
    for (const [error] of replies) if (error) throw error;
    const exactReply = replies[0]![1] as [string, string] | null;
    const flat = replies[1]![1] as string[];
    const changes: Array<{ id: string; createdAt: number }> = [];
    for (let index = 0; index < flat.length; index += 2) changes.push({ id: flat[index]!, createdAt: Number(flat[index + 1]) });
    return { exact: exactReply ? { id: exactReply[0], entry: decodeEntry(exactReply[1]) } : null, changes };
  }

  /** The entries of these ids, in order; null for those gone (expired or evicted). */
  async entries(partition: PartitionKeys, ids: string[]): Promise<Array<StoredEntry | null>> {
    if (ids.length === 0) return [];
    await whenReady(this.client, this.timeoutMs);
    const [, e] = keysOf(partition);
    const found: Array<StoredEntry | null> = [];
    for (let start = 0; start < ids.length; start += FETCH_BATCH) {
      const values = await this.client.hmget(e, ...ids.slice(start, start + FETCH_BATCH));
      for (const value of values) found.push(value === null ? null : decodeEntry(value));
    }
    return found;
  }

  /** Stores an entry and returns its id. */
  async insert(partition: PartitionKeys, questionHash: string, entry: StoredEntry, ttlMs: number, maxEntries: number): Promise<string> {
    await whenReady(this.client, this.timeoutMs);
    const id = `${questionHash}.${randomBytes(6).toString('hex')}`;
    const [z, e, x] = keysOf(partition);
    await Promise.all([
      this.client.semanticCacheInsert(3, z, e, x, id, questionHash, encodeEntry(entry), entry.createdAt, ttlMs, maxEntries),
      // The scope's list of partitions lives in another slot: a command of its own.
      this.client.multi().sadd(partition.scopeSet, partition.name).pexpire(partition.scopeSet, ttlMs).exec(),
    ]);
    return id;
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

export function redisCacheStoreFor(config: RedisConfig): RedisCacheStore {
  const client = redisClientFor(config);
  if (!('semanticCacheExact' in client)) {
    client.defineCommand('semanticCacheExact', { lua: EXACT_SCRIPT });
    client.defineCommand('semanticCacheInsert', { lua: INSERT_SCRIPT });
  }
  return new RedisCacheStore(client as ScriptClient, config.timeout_ms);
}

function keysOf(partition: PartitionKeys): [string, string, string] {
  return [`${partition.name}:z`, `${partition.name}:e`, `${partition.name}:x`];
}

function encodeEntry(entry: StoredEntry): string {
  return JSON.stringify({
    q: entry.question,
    v: entry.vector === null ? null : Buffer.from(entry.vector.buffer, entry.vector.byteOffset, entry.vector.byteLength).toString('base64'),
    a: entry.answer,
    t: entry.createdAt,
  });
}

function decodeEntry(json: string): StoredEntry {
  const raw = JSON.parse(json) as { q: string; v: string | null; a: CachedAnswer; t: number };
  let vector: Float32Array | null = null;
  if (raw.v !== null) {
    const bytes = Buffer.from(raw.v, 'base64');
    // Copied into an aligned buffer: a Float32Array view needs an offset that is a multiple of 4.
    vector = new Float32Array(new Uint8Array(bytes).buffer);
  }
  return { question: raw.q, vector, answer: raw.a, createdAt: raw.t };
}
