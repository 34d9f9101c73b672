// semantic-cache's pure parts: config, what makes a request cacheable and the same, the guard, Cache-Control, the local index.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { semanticCacheConfig } from '../../plugins/semantic-cache/config';
import { cacheKeyOf, type CacheKey } from '../../plugins/semantic-cache/cache-key';
import { differingSpecifics, specificsOf } from '../../plugins/semantic-cache/same-specifics';
import { parseCacheControl } from '../../plugins/semantic-cache/cache-control';
import { PartitionIndex } from '../../plugins/semantic-cache/partition-index';
import { partitionKeysOf, scopeIdOf } from '../../plugins/semantic-cache/partition-keys';
import { normalize } from '../../plugins/core/embeddings/vectors';
import type { OpenAIChatRequest } from '../../plugins/core/providers/openai/openai-chat-schemas';
import { OpenAIResponseTranslator } from '../../plugins/core/providers/openai/openai-response-translator';

const OPTIONS = { turns: 1, skipLongerConversations: true, maxTemperature: 1, servingModels: ['openai:gpt-4o'] };
const ask = (content: unknown, extra: Record<string, unknown> = {}, system?: string): OpenAIChatRequest =>
  ({ model: 'gpt-4o', messages: [...(system ? [{ role: 'system', content: system }] : []), { role: 'user', content }], ...extra }) as OpenAIChatRequest;
const cacheable = (key: CacheKey) => {
  assert.ok(key.cacheable, key.cacheable ? '' : key.reason);
  return key;
};

describe('semantic-cache config', () => {
  it('has safe defaults and checks what depends on what', () => {
    const config = semanticCacheConfig.parse({});
    assert.equal(config.scope, 'consumer');
    assert.equal(config.match, 'semantic');
    assert.equal(config.embedder.kind, 'use-lite');
    assert.equal(config.redis.host, '127.0.0.1');
    assert.equal(semanticCacheConfig.safeParse({ scope: 'header' }).success, false);
    assert.equal(semanticCacheConfig.safeParse({ scope: 'header', scope_header: 'x-tenant' }).success, true);
    assert.equal(semanticCacheConfig.safeParse({ redis: { password: 'hunter2' } }).success, false);
    assert.equal(semanticCacheConfig.safeParse({ similarity_threshold: 1.5 }).success, false);
  });
});

describe('cacheKeyOf', () => {
  it('keys the question apart from its exact context', () => {
    const plain = cacheable(cacheKeyOf(ask('  How do I   reset my password? '), OPTIONS));
    assert.equal(plain.cacheable && plain.question, 'How do I reset my password?');
    const spaced = cacheable(cacheKeyOf(ask('How do I reset my password?'), OPTIONS));
    assert.equal(plain.cacheable && spaced.cacheable && plain.questionHash === spaced.questionHash, true);
    // Same question, other system prompt, model or tools: another context.
    const contexts = [
      cacheKeyOf(ask('How do I reset my password?', {}, 'You are a pirate.'), OPTIONS),
      cacheKeyOf({ ...ask('How do I reset my password?'), model: 'gpt-4o-mini' }, OPTIONS),
      cacheKeyOf(ask('How do I reset my password?', { tools: [{ type: 'function', function: { name: 'lookup' } }] }), OPTIONS),
      cacheKeyOf(ask('How do I reset my password?', { response_format: { type: 'json_object' } }), OPTIONS),
    ].map((key) => cacheable(key).cacheable && (key as { context: string }).context);
    assert.equal(new Set([...contexts, plain.cacheable && plain.context]).size, 5);
    // Field order inside parameters does not matter.
    const left = cacheKeyOf(ask('q', { response_format: { type: 'json_schema', json_schema: { name: 'a', strict: true } } }), OPTIONS);
    const right = cacheKeyOf(ask('q', { response_format: { json_schema: { strict: true, name: 'a' }, type: 'json_schema' } }), OPTIONS);
    assert.equal((left as { context: string }).context, (right as { context: string }).context);
    // A field the gateway does not know still splits the cache (a server's guided decoding changes the answer).
    const guided = cacheKeyOf(ask('How do I reset my password?', { guided_choice: ['yes'] }), OPTIONS);
    assert.notEqual((guided as { context: string }).context, plain.cacheable && plain.context);
    // The same model name served by other provider models (another route's llm-proxy) is another context.
    const elsewhere = cacheKeyOf(ask('How do I reset my password?'), { ...OPTIONS, servingModels: ['anthropic:claude-sonnet-4-5'] });
    assert.notEqual((elsewhere as { context: string }).context, plain.cacheable && plain.context);
    // Neutral fields and the order of serving models do not.
    const neutral = cacheKeyOf(ask('How do I reset my password?', { user: 'u-1', stream: true, stream_options: { include_usage: true }, metadata: { a: '1' } }), { ...OPTIONS, servingModels: ['openai:gpt-4o', 'openai:gpt-4o'] });
    assert.equal((neutral as { context: string }).context, plain.cacheable && plain.context);
    // Temperatures up to the bound and max_tokens do not split the cache.
    const warm = cacheKeyOf(ask('How do I reset my password?', { temperature: 0.7, max_tokens: 50 }), OPTIONS);
    assert.equal((warm as { context: string }).context, plain.cacheable && plain.context);
    assert.equal((warm as { maxOutputTokens: number }).maxOutputTokens, 50);
  });

  it('refuses what must not be cached', () => {
    const reasons = [
      cacheKeyOf(ask('q', { temperature: 1.5 }), OPTIONS),
      cacheKeyOf(ask('q', { n: 2 }), OPTIONS),
      cacheKeyOf(ask('q', { logprobs: true }), OPTIONS),
      cacheKeyOf(ask([{ type: 'text', text: 'what is this?' }, { type: 'image_url', image_url: { url: 'https://x/y.png' } }]), OPTIONS),
      cacheKeyOf(ask('   '), OPTIONS),
      cacheKeyOf({ model: 'm', messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: 'a' }] } as OpenAIChatRequest, OPTIONS),
      cacheKeyOf({ model: 'm', messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: 'a' }, { role: 'user', content: 'and the second one?' }] } as OpenAIChatRequest, OPTIONS),
    ].map((key) => (key.cacheable ? 'cacheable' : key.reason));
    assert.deepEqual(reasons, [
      'temperature above max_temperature',
      'n > 1 asks for several answers',
      'logprobs belong to one generation',
      'the question has parts other than text',
      'the question is empty',
      'the last message is not a user message',
      'the conversation is longer than turns',
    ]);
  });

  it('with more turns, earlier turns must match exactly and the newest is the question', () => {
    const conversation = (earlier: string) => ({ model: 'm', messages: [{ role: 'user', content: earlier }, { role: 'assistant', content: 'Paris.' }, { role: 'user', content: 'And its population?' }] }) as OpenAIChatRequest;
    const options = { ...OPTIONS, turns: 3 };
    const france = cacheable(cacheKeyOf(conversation('Capital of France?'), options));
    const italy = cacheable(cacheKeyOf(conversation('Capital of Italy?'), options));
    assert.equal(france.cacheable && france.question, 'And its population?');
    assert.notEqual((france as { context: string }).context, (italy as { context: string }).context);
    // With skip_longer_conversations off, only the last `turns` count.
    const lastOnly = cacheKeyOf(conversation('Capital of France?'), { ...OPTIONS, skipLongerConversations: false });
    assert.equal((lastOnly as { context: string }).context, (cacheKeyOf(conversation('Capital of Italy?'), { ...OPTIONS, skipLongerConversations: false }) as { context: string }).context);
  });
});

describe('the near-duplicate guard', () => {
  const differ = (left: string, right: string) => differingSpecifics(specificsOf(left), specificsOf(right));
  it('lets rewordings through', () => {
    assert.equal(differ('What is the capital of France?', "what's france's capital"), null);
    assert.equal(differ('Who won the World Cup?', 'who won the world cup'), null);
    assert.equal(differ('How do I reset my password?', 'How can I reset my password?'), null);
    assert.equal(differ('How do I reset my password?', 'What are the steps to reset my password?'), null); // "I" is no name
    assert.equal(differ("I'm locked out of NASA's site", 'locked out of the nasa site'), null);
  });
  it('stops negation, numbers, dates and names', () => {
    assert.equal(differ('Is ibuprofen safe during pregnancy?', 'Is ibuprofen not safe during pregnancy?'), 'negation');
    assert.equal(differ("I can log in", "I can't log in"), 'negation');
    assert.equal(differ('Top 5 restaurants in Rome', 'Top 10 restaurants in Rome'), 'numbers or dates');
    assert.equal(differ('Population of Paris in 2023', 'Population of Paris in 2024'), 'numbers or dates');
    assert.equal(differ('Flights to Berlin on Monday', 'Flights to Berlin on Tuesday'), 'numbers or dates');
    assert.equal(differ('three ways to save money', 'five ways to save money'), 'numbers or dates');
    assert.equal(differ('What is the capital of France?', 'What is the capital of Germany?'), 'names');
    assert.equal(differ('Write to <PERSON_1>', 'Write to <PERSON_2>'), 'names');
  });
});

describe('Cache-Control', () => {
  it('reads no-cache and no-store, case and spacing aside', () => {
    assert.deepEqual(parseCacheControl(null), { noCache: false, noStore: false });
    assert.deepEqual(parseCacheControl('No-Cache'), { noCache: true, noStore: false });
    assert.deepEqual(parseCacheControl('max-age=0, no-store'), { noCache: false, noStore: true });
  });
});

describe('partition keys', () => {
  it('keep scopes, vector spaces and contexts apart, in one Cluster slot per partition', () => {
    const alice = scopeIdOf('ns', 'consumer', 'alice');
    const bob = scopeIdOf('ns', 'consumer', 'bob');
    assert.notEqual(partitionKeysOf(alice, 'use-lite', 'c').name, partitionKeysOf(bob, 'use-lite', 'c').name);
    assert.notEqual(partitionKeysOf(alice, 'use-lite', 'c').name, partitionKeysOf(alice, 'onnx:all-MiniLM-L6-v2', 'c').name);
    assert.notEqual(partitionKeysOf(alice, 'use-lite', 'c').name, partitionKeysOf(alice, 'use-lite', 'd').name);
    assert.match(partitionKeysOf(alice, 'use-lite', 'c').name, /^sc:\{[^{}]+\}$/);
  });
});

describe('PartitionIndex', () => {
  const vector = (...values: number[]) => normalize(Float32Array.from(values));
  it('finds the nearest entries, forgets removed and expired ones, and stays within max entries', () => {
    const index = new PartitionIndex(3);
    const now = 1_000_000;
    index.add({ id: 'a', question: 'a', createdAt: now }, vector(1, 0, 0));
    index.add({ id: 'b', question: 'b', createdAt: now }, vector(0.9, 0.1, 0));
    index.add({ id: 'c', question: 'c', createdAt: now - 5000 }, vector(0, 1, 0));
    const found = index.nearest(vector(1, 0, 0), 3, 60_000, now);
    assert.deepEqual(found.map((entry) => entry.id), ['a', 'b', 'c']);
    assert.ok(Math.abs(found[0]!.similarity - 1) < 1e-5);
    index.remove('a');
    assert.deepEqual(index.nearest(vector(1, 0, 0), 3, 60_000, now).map((entry) => entry.id), ['b', 'c']);
    // c is older than the max age: dropped from the index when met.
    assert.deepEqual(index.nearest(vector(0, 1, 0), 3, 1000, now).map((entry) => entry.id), ['b']);
    assert.equal(index.has('c'), false);
    for (const id of ['d', 'e', 'f']) index.add({ id, question: id, createdAt: now }, vector(0, 0, 1));
    assert.equal(index.size, 3);
    assert.equal(index.has('b'), false); // the oldest went first
  });
});

describe('finish reasons the cache trusts', () => {
  it('reports tool_calls for an answer that called tools, even when the server says stop', () => {
    const whole = new OpenAIResponseTranslator();
    whole.translateBody(JSON.stringify({ choices: [{ index: 0, message: { content: 'x', tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{}' } }] }, finish_reason: 'stop' }] }));
    assert.equal(whole.finishReason, 'tool_calls');
    const streamed = new OpenAIResponseTranslator();
    streamed.translateEvent({ event: null, data: JSON.stringify({ choices: [{ index: 0, delta: { tool_calls: [{ index: 0, id: 'call_1', function: { name: 'f', arguments: '' } }] }, finish_reason: null }] }) });
    streamed.translateEvent({ event: null, data: JSON.stringify({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }) });
    assert.equal(streamed.finishReason, 'tool_calls');
    const plain = new OpenAIResponseTranslator();
    plain.translateBody(JSON.stringify({ choices: [{ index: 0, message: { content: 'x' }, finish_reason: 'stop' }] }));
    assert.equal(plain.finishReason, 'stop');
  });
});
