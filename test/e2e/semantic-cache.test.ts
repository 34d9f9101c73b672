// semantic-cache through Kong with a real Redis: hits, paraphrases, guards, tenants, TTL, streams, a second node, faults, PII.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { DEMO_API_KEY, REPOSITORY_ROOT, startGateway, writeKongYml, type Gateway, routeYml } from '../support/gateway';
import { startRedis, type RedisServer } from '../support/redis-server';
import { freePort } from '../support/free-port';
import { waitFor } from '../support/wait-for';
import { closeEmbedders, embedderFor } from '../../plugins/core/embeddings/embedder';
import { embedderConfig } from '../../plugins/core/embeddings/embedder-config';
import { cosineSimilarity } from '../../plugins/core/embeddings/vectors';

const OTHER_API_KEY = 'other-key';
const THRESHOLD = 0.9;
const TARGET = `              targets:
                - { provider: openai-compatible, model: gpt-4o-mini, base_url: "http://mock-llm:9090/v1" }`;

function route(name: string, path: string, cache: string, { routeType = 'llm/v1/chat', before = '' } = {}): string {
  return routeYml(name, {
    path,
    plugins: [...(before === '' ? [] : [[before, ''] as [string, string]]), ['semantic-cache', cache]],
    llmProxy: `              route_type: ${routeType}\n${TARGET}`,
  });
}

const cacheConfig = (namespace: string, redisPort: number, extra = '') => `              namespace: ${namespace}
              similarity_threshold: ${THRESHOLD}
              redis: { host: 127.0.0.1, port: ${redisPort}, timeout_ms: 500 }${extra}`;

function kongYml(redisPort: number, deadPort: number): string {
  return `_format_version: "3.0"
services:
  - name: ai-connector
    url: http://127.0.0.1:8787
    routes:${route('cache', '/cache/v1/chat/completions', cacheConfig('e2e', redisPort))}${route('messages', '/cache/v1/messages', cacheConfig('e2e', redisPort), { routeType: 'llm/v1/messages' })}${route(
      'short',
      '/short/v1/chat/completions',
      cacheConfig('e2e-ttl', redisPort, '\n              ttl_seconds: 1'),
    )}${route('exact', '/exact/v1/chat/completions', cacheConfig('e2e-exact', redisPort, '\n              match: exact'))}${route('down', '/down/v1/chat/completions', cacheConfig('e2e-down', deadPort))}${route(
      'private',
      '/private/v1/chat/completions',
      cacheConfig('e2e-pii', redisPort, '\n              scope: global'),
      { before: 'pii-redact' },
    )}
consumers:
  - username: demo
    keyauth_credentials:
      - key: ${DEMO_API_KEY}
  - username: other
    keyauth_credentials:
      - key: ${OTHER_API_KEY}
`;
}

interface Answer {
  status: number;
  cache: string | null;
  similarity: string | null;
  age: string | null;
  content: string;
}

describe('semantic-cache through Kong', () => {
  let gateway: Gateway;
  let redis: RedisServer;
  let kongYmlPath: string;
  const providerCalls = () => gateway.mock.received.filter((request) => request.path.endsWith('/chat/completions')).length;

  async function ask(prefix: string, content: string, { key = DEMO_API_KEY, headers = {}, extra = {}, kong = gateway }: { key?: string; headers?: Record<string, string>; extra?: Record<string, unknown>; kong?: Gateway } = {}): Promise<Answer> {
    const response = await fetch(`${kong.kong.url}${prefix}/v1/chat/completions`, {
      method: 'POST',
      headers: { apikey: key, 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }], ...extra }),
    });
    const body = (await response.json()) as { choices?: Array<{ message: { content: string } }> };
    return {
      status: response.status,
      cache: response.headers.get('x-cache-status'),
      similarity: response.headers.get('x-cache-similarity'),
      age: response.headers.get('age'),
      content: body.choices?.[0]?.message.content ?? JSON.stringify(body),
    };
  }

  /** Entries stored under a namespace, all scopes: the fill runs after the answer went out, so tests wait for it. */
  async function stored(namespace: string): Promise<number> {
    const keys = await redis.client.keys(`sc:{${namespace}:*}:e`);
    const counts = await Promise.all(keys.map((key) => redis.client.hlen(key)));
    return counts.reduce((sum, count) => sum + count, 0);
  }
  const storedAtLeast = (namespace: string, count: number) => waitFor(async () => (await stored(namespace)) >= count, 5000);

  before(async () => {
    redis = await startRedis();
    kongYmlPath = writeKongYml(kongYml(redis.port, await freePort()));
    gateway = await startGateway({ declarativeConfig: kongYmlPath });
    gateway.mock.setMode('echo');
  });
  after(async () => {
    await gateway?.stop();
    await redis?.stop();
    await closeEmbedders();
  });

  it('misses, stores, then answers the same question from cache without calling the provider', async () => {
    const first = await ask('/cache', 'How do I reset my password?');
    assert.equal(first.status, 200);
    assert.equal(first.cache, 'Miss');
    await storedAtLeast('e2e', 1);
    const calls = providerCalls();
    const second = await ask('/cache', 'How do I reset my password?');
    assert.equal(second.status, 200);
    assert.equal(second.cache, 'Hit');
    assert.equal(second.similarity, '1.0000');
    assert.match(second.age ?? '', /^\d+$/);
    assert.equal(second.content, first.content);
    assert.equal(providerCalls(), calls);
  });

  it('answers a paraphrase by meaning (Semantic-Hit), with the first question\'s answer', async () => {
    const calls = providerCalls();
    const paraphrase = await ask('/cache', 'How can I reset my password?');
    assert.equal(paraphrase.cache, 'Semantic-Hit');
    assert.ok(Number(paraphrase.similarity) >= THRESHOLD);
    assert.equal(paraphrase.content, 'How do I reset my password?'); // the echo of the stored question
    assert.equal(providerCalls(), calls);
  });

  it('never serves a near-duplicate that differs in negation or numbers, however similar', async () => {
    const pairs = [
      ['Is it safe to drink tap water in Paris?', 'Is it not safe to drink tap water in Paris?'],
      ['What are the top 5 restaurants in Rome?', 'What are the top 10 restaurants in Rome?'],
    ] as const;
    const embedder = embedderFor(embedderConfig.parse({}));
    for (const [stored_, variant] of pairs) {
      const [left, right] = await embedder.embed([stored_, variant]);
      // Without the guard these would hit: the embeddings alone cannot tell them apart.
      assert.ok(cosineSimilarity(left!, right!) >= THRESHOLD, `${variant} is above the threshold`);
      const before_ = await stored('e2e');
      assert.equal((await ask('/cache', stored_)).cache, 'Miss');
      await storedAtLeast('e2e', before_ + 1);
      const answer = await ask('/cache', variant);
      assert.equal(answer.cache, 'Miss');
      assert.equal(answer.content, variant);
    }
  });

  it('never shares an entry between two consumers, even for the identical prompt', async () => {
    const answer = await ask('/cache', 'How do I reset my password?', { key: OTHER_API_KEY });
    assert.equal(answer.cache, 'Miss');
  });

  it('replays a hit as an OpenAI stream, usage chunk included when asked', async () => {
    const openai = new OpenAI({ apiKey: 'unused', baseURL: `${gateway.kong.url}/cache/v1`, defaultHeaders: { apikey: DEMO_API_KEY }, maxRetries: 0 });
    const calls = providerCalls();
    const { data: stream, response } = await openai.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'How do I reset my password?' }], stream: true, stream_options: { include_usage: true } })
      .withResponse();
    assert.equal(response.headers.get('x-cache-status'), 'Hit');
    let text = '';
    let usage = null;
    let finish = null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      usage = chunk.usage ?? usage;
    }
    assert.equal(text, 'How do I reset my password?');
    assert.equal(finish, 'stop');
    assert.ok(usage && usage.completion_tokens > 0);
    assert.equal(providerCalls(), calls);
  });

  it('fills the cache from a streamed answer when it ends', async () => {
    const openai = new OpenAI({ apiKey: 'unused', baseURL: `${gateway.kong.url}/cache/v1`, defaultHeaders: { apikey: DEMO_API_KEY }, maxRetries: 0 });
    const before_ = await stored('e2e');
    const stream = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Name three primary colours.' }], stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    await storedAtLeast('e2e', before_ + 1);
    const again = await ask('/cache', 'Name three primary colours.');
    assert.equal(again.cache, 'Hit');
    assert.equal(again.content, text);
  });

  it('serves Anthropic SDK clients from cache too, streamed as Anthropic events', async () => {
    const anthropic = new Anthropic({ apiKey: 'unused', baseURL: `${gateway.kong.url}/cache`, defaultHeaders: { apikey: DEMO_API_KEY }, maxRetries: 0 });
    const before_ = await stored('e2e');
    const first = await anthropic.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 200, messages: [{ role: 'user', content: 'Summarise the plot of Hamlet.' }] });
    await storedAtLeast('e2e', before_ + 1);
    const calls = providerCalls();
    const { data: stream, response } = await anthropic.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 200, messages: [{ role: 'user', content: 'Summarise the plot of Hamlet.' }], stream: true }).withResponse();
    assert.equal(response.headers.get('x-cache-status'), 'Hit');
    let text = '';
    let stopReason = null;
    for await (const event of stream) {
      if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') text += event.delta.text;
      if (event.type === 'message_delta') stopReason = event.delta.stop_reason;
    }
    assert.equal(text, (first.content[0] as { text: string }).text);
    assert.equal(stopReason, 'end_turn');
    assert.equal(providerCalls(), calls);
  });

  it('honours Cache-Control: no-store bypasses entirely, no-cache refreshes', async () => {
    const bypass = await ask('/cache', 'What is a monad?', { headers: { 'cache-control': 'no-store' } });
    assert.equal(bypass.cache, 'Bypass');
    await sleep(200);
    assert.equal((await ask('/cache', 'What is a monad?')).cache, 'Miss'); // no-store stored nothing
    await storedAtLeast('e2e', 1);
    await waitFor(async () => (await ask('/cache', 'What is a monad?')).cache === 'Hit', 5000);
    const calls = providerCalls();
    const refresh = await ask('/cache', 'What is a monad?', { headers: { 'cache-control': 'no-cache' } });
    assert.equal(refresh.cache, 'Refresh');
    assert.equal(providerCalls(), calls + 1);
  });

  it('never stores truncated answers, tool calls or errors', async () => {
    const truncated = { max_tokens: 2 };
    assert.equal((await ask('/cache', 'Tell me a very long story about dragons', { extra: truncated })).cache, 'Miss');
    await sleep(300);
    assert.equal((await ask('/cache', 'Tell me a very long story about dragons', { extra: truncated })).cache, 'Miss');
    gateway.mock.setMode('replay'); // the recorded tool-call answer
    const tools = { tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: {} } } }] };
    assert.equal((await ask('/cache', 'Weather in Boston?', { extra: tools })).cache, 'Miss');
    await sleep(300);
    assert.equal((await ask('/cache', 'Weather in Boston?', { extra: tools })).cache, 'Miss');
    gateway.mock.setMode('echo');
    gateway.mock.setFaults({ status: 500 });
    assert.equal((await ask('/cache', 'Will this fail?')).status, 500);
    gateway.mock.setFaults({});
    await sleep(300);
    assert.equal((await ask('/cache', 'Will this fail?')).cache, 'Miss');
  });

  it('expires entries after ttl_seconds', async () => {
    assert.equal((await ask('/short', 'What time zone is Tokyo in?')).cache, 'Miss');
    await storedAtLeast('e2e-ttl', 1);
    assert.equal((await ask('/short', 'What time zone is Tokyo in?')).cache, 'Hit');
    await sleep(1100);
    assert.equal((await ask('/short', 'What time zone is Tokyo in?')).cache, 'Miss');
  });

  it('match: exact answers identical questions only, without embedding', async () => {
    assert.equal((await ask('/exact', 'How do I reset my password?')).cache, 'Miss');
    await storedAtLeast('e2e-exact', 1);
    assert.equal((await ask('/exact', 'How do I reset my password?')).cache, 'Hit');
    assert.equal((await ask('/exact', 'How can I reset my password?')).cache, 'Miss');
  });

  it('a second plugin server (another Kong node) finds what the first stored, exact and by meaning', async () => {
    const second = await startGateway({ declarativeConfig: kongYmlPath });
    try {
      second.mock.setMode('echo');
      const exact = await ask('/cache', 'How do I reset my password?', { kong: second });
      assert.equal(exact.cache, 'Hit');
      const paraphrase = await ask('/cache', 'What are the steps to reset my password?', { kong: second });
      assert.equal(paraphrase.cache, 'Semantic-Hit');
      assert.equal(paraphrase.content, 'How do I reset my password?');
      assert.equal(second.mock.received.length, 0);
    } finally {
      await second.stop();
    }
  });

  it('bypasses the cache, not the request, when Redis is down', async () => {
    const answer = await ask('/down', 'Is Redis up?');
    assert.equal(answer.status, 200);
    assert.equal(answer.cache, 'Bypass');
    assert.equal(answer.content, 'Is Redis up?');
  });

  it('with pii-redact: stores only redacted text, and restores a hit with each requester\'s own values', async () => {
    const first = await ask('/private', 'Write a short greeting to John Smith.');
    assert.equal(first.cache, 'Miss');
    assert.equal(first.content, 'Write a short greeting to John Smith.');
    await storedAtLeast('e2e-pii', 1);
    const second = await ask('/private', 'Write a short greeting to Mary Jones.', { key: OTHER_API_KEY });
    assert.equal(second.cache, 'Hit');
    assert.equal(second.content, 'Write a short greeting to Mary Jones.');
    const keys = await redis.client.keys('sc:*');
    const dump = (await Promise.all(keys.map(async (key) => JSON.stringify(await redis.client.dump(key))))).join('');
    for (const name of ['John', 'Smith', 'Mary', 'Jones']) assert.equal(dump.includes(name), false, `${name} reached Redis`);
  });

  it('purges a scope from the command line, for every node', async () => {
    assert.equal((await ask('/cache', 'How do I reset my password?')).cache, 'Hit');
    assert.equal((await ask('/cache', 'Name the three primary colours.')).cache, 'Semantic-Hit'); // hits store nothing
    const { stdout } = await promisify(execFile)(process.execPath, [
      path.join(REPOSITORY_ROOT, 'dist/plugins/semantic-cache/purge-cache.js'),
      '--namespace', 'e2e', '--scope', 'consumer', '--value', 'demo', '--redis-port', String(redis.port),
    ]);
    assert.match(stdout, /purged [1-9]\d* partition/);
    // Each miss stores its answer again, so the checks ask different questions (exact, then by meaning).
    assert.equal((await ask('/cache', 'How do I reset my password?')).cache, 'Miss');
    assert.equal((await ask('/cache', 'Name the three primary colours.')).cache, 'Miss');
    // The other consumer's entries are untouched.
    assert.equal((await ask('/cache', 'How do I reset my password?', { key: OTHER_API_KEY })).cache, 'Hit');
  });
});
