// semantic-cache's Redis store and lookup against a real redis-server: eviction, replacement, catch-up in slices, purge.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startRedis, type RedisServer } from '../support/redis-server';
import { redisCacheStoreFor, type RedisCacheStore } from '../../plugins/semantic-cache/stores/redis-cache-store';
import { redisConfig } from '../../plugins/core/redis/redis-config';
import { closeRedisClients } from '../../plugins/core/redis/redis-client';
import { partitionKeysOf, scopeIdOf } from '../../plugins/semantic-cache/partition-keys';
import { PartitionIndex } from '../../plugins/semantic-cache/partition-index';
import { lookup } from '../../plugins/semantic-cache/lookup';
import { normalize } from '../../plugins/core/embeddings/vectors';

const SETTINGS = { threshold: 0.9, guardSpecifics: true, ttlMs: 60_000 };

describe('semantic-cache store (real Redis)', () => {
  let redis: RedisServer;
  let store: RedisCacheStore;
  const partition = (name: string) => partitionKeysOf(scopeIdOf('unit', 'consumer', name), 'test-space', 'context');
  /** A distinct unit vector per axis number (8 dimensions, a second component growing with the number). */
  const vectorOf = (axis: number) => {
    const vector = new Float32Array(8);
    vector[axis % 8] = 1;
    vector[(axis + 1) % 8] = 0.1 * Math.floor(axis / 8);
    return normalize(vector);
  };
  const entry = (question: string, createdAt = Date.now()) => ({ question, answer: { text: `answer to ${question}`, model: 'm', usage: null }, createdAt });
  const semantic = (index: PartitionIndex, vector: Float32Array) => ({ index, embed: async () => vector });

  before(async () => {
    redis = await startRedis();
    store = redisCacheStoreFor(redisConfig.parse({ port: redis.port, timeout_ms: 2000 }));
  });
  after(async () => {
    await closeRedisClients();
    await redis?.stop();
  });

  it('keeps at most max entries, oldest out first, and one entry per question', async () => {
    const keys = partition('cap');
    const now = Date.now();
    for (let index = 0; index < 5; index += 1) await store.insert(keys, `q${index}`, entry(`question ${index}`, now + index), vectorOf(index), 60_000, 3);
    assert.equal(await redis.client.zcard(`${keys.name}:z`), 3);
    assert.deepEqual((await redis.client.hkeys(`${keys.name}:x`)).sort(), ['q2', 'q3', 'q4']);
    // The same question again replaces its entry.
    await store.insert(keys, 'q4', entry('question 4', now + 10), vectorOf(4), 60_000, 3);
    assert.equal(await redis.client.hlen(`${keys.name}:e`), 3);
    assert.equal(await redis.client.hlen(`${keys.name}:v`), 3);
    const { exact } = await store.begin(keys, 'q4', 0);
    assert.equal(exact?.entry.createdAt, now + 10);
    // Every key of the partition expires with the ttl.
    assert.ok((await redis.client.pttl(`${keys.name}:e`)) > 0);
  });

  it('evicts entries older than the ttl when storing, by Redis\' clock', async () => {
    const keys = partition('ttl');
    await store.insert(keys, 'old', entry('old question'), vectorOf(1), 300, 10);
    await new Promise((resolve) => setTimeout(resolve, 400));
    await store.insert(keys, 'new', entry('new question'), vectorOf(2), 300, 10);
    // Age is Redis' clock: the first entry is older than the ttl when the second is stored.
    assert.deepEqual(await redis.client.hkeys(`${keys.name}:x`), ['new']);
    assert.equal(await redis.client.hlen(`${keys.name}:v`), 1);
  });

  it('lets a node catch up with a large partition in slices, then find entries by meaning', async () => {
    const keys = partition('catch-up');
    const now = Date.now();
    for (let index = 0; index < 100; index += 1) await store.insert(keys, `h${index}`, entry(`stored question ${index}`, now + index), vectorOf(index), 60_000, 1000);
    const index = new PartitionIndex(1000);
    const question = { text: 'the stored question 99', hash: 'none', maxOutputTokens: null };
    await lookup(store, keys, question, SETTINGS, semantic(index, vectorOf(99)));
    assert.equal(index.size, 64); // one slice per lookup
    const outcome = await lookup(store, keys, question, SETTINGS, semantic(index, vectorOf(99)));
    assert.equal(index.size, 100);
    assert.equal(outcome.status, 'Semantic-Hit');
    assert.equal(outcome.status === 'Semantic-Hit' && outcome.entry.question, 'stored question 99');
  });

  it('drops an entry from the node index when Redis no longer has it', async () => {
    const keys = partition('stale');
    await store.insert(keys, 's1', entry('stale question'), vectorOf(3), 60_000, 10);
    const index = new PartitionIndex(10);
    const question = { text: 'stale question again', hash: 'none', maxOutputTokens: null };
    assert.equal((await lookup(store, keys, question, SETTINGS, semantic(index, vectorOf(3)))).status, 'Semantic-Hit');
    assert.equal(await store.purge(keys.scopeSet), 1);
    assert.equal(index.size, 1);
    assert.equal((await lookup(store, keys, question, SETTINGS, semantic(index, vectorOf(3)))).status, 'Miss');
    assert.equal(index.size, 0);
    assert.deepEqual(await redis.client.keys(`${keys.name}*`), []);
  });

  it('does not serve an answer longer than the request allows', async () => {
    const keys = partition('long');
    const usage = { input_tokens: 5, output_tokens: 300, total_tokens: 305, cached_input_tokens: 0, reasoning_tokens: 0 };
    await store.insert(keys, 'l1', { ...entry('long answer question'), answer: { text: 'a long answer', model: 'm', usage } }, vectorOf(4), 60_000, 10);
    const index = new PartitionIndex(10);
    const ask = (maxOutputTokens: number | null) => lookup(store, keys, { text: 'long answer question', hash: 'l1', maxOutputTokens }, SETTINGS, semantic(index, vectorOf(4)));
    assert.equal((await ask(100)).status, 'Miss');
    assert.equal((await ask(300)).status, 'Hit');
    assert.equal((await ask(null)).status, 'Hit');
  });
});
