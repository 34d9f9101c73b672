// token-limit through Kong: headers, 429s, exact commits (streams too), aborts, rollover, tiers, cost, keys, Redis faults.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import OpenAI from 'openai';
import { DEMO_API_KEY, DEMO_CONSUMER_YML, chatRequest, postChat, startGateway, writeKongYml, type Gateway, routeYml } from '../support/gateway';
import { startRedis, type RedisServer } from '../support/redis-server';
import { waitFor } from '../support/wait-for';
import { tokenCounterFor } from '../../plugins/core/tokens/token-counter';
import { countChatPromptTokens } from '../../plugins/core/tokens/count-prompt-tokens';

const TARGET = `              targets:
                - { provider: openai-compatible, model: gpt-4o, base_url: "http://mock-llm:9090/v1" }`;

function route(name: string, tokenLimit: string, target = TARGET): string {
  return routeYml(name, { plugins: [['token-limit', tokenLimit]], llmProxy: target });
}

const redisAt = (port: number, extra = '') => `              policy: redis
              redis: { host: 127.0.0.1, port: ${port}, timeout_ms: 50 }${extra}`;

function kongYml(mainRedis: number, faultyRedis: number): string {
  return `_format_version: "3.0"
services:
  - name: ai-connector
    url: http://127.0.0.1:8787
    routes:${route(
      'tiers',
      `              namespace: tiers
              limits:
                - { name: burst, metric: requests, limit: 3, window: minute }
                - { name: tokens, metric: total_tokens, limit: 100000, window: minute }`,
    )}${route(
      'hidden',
      `              namespace: hidden
              hide_client_headers: true
              limits: [{ metric: requests, limit: 1, window: minute }]`,
    )}${route(
      'exact',
      `              namespace: exact
              limits:
                - { name: in, metric: input_tokens, limit: 1000000, window: hour }
                - { name: out, metric: output_tokens, limit: 1000000, window: hour }
                - { name: all, metric: total_tokens, limit: 1000000, window: hour }
${redisAt(mainRedis)}`,
    )}${route(
      'rollover',
      `              namespace: rollover
              limits: [{ metric: requests, limit: 1, window: second }]`,
    )}${route(
      'cost',
      `              namespace: cost
              limits: [{ name: spend, metric: cost_usd, limit: 0.05, window: day }]`,
      `              targets:
                - { provider: openai-compatible, model: pricey, base_url: "http://mock-llm:9090/v1", max_tokens: 5, price: { input: 1000, output: 1000 } }`,
    )}${route(
      'teams',
      `              namespace: teams
              limits: [{ metric: requests, limit: 1, window: minute, key_by: header, header_name: x-team }]`,
    )}${route(
      'groups',
      `              namespace: groups
              limits: [{ metric: requests, limit: 1, window: minute, key_by: consumer_group }]`,
    )}${route(
      'downgrade',
      `              namespace: downgrade
              limits: [{ name: monthly-requests, metric: requests, limit: 100, soft_limit: 2, window: month }]`,
      `              targets:
                - { name: premium, provider: openai-compatible, model: gpt-4o, base_url: "http://mock-llm:9090/v1" }
                - { name: cheap, provider: openai-compatible, model: gpt-4o-mini, base_url: "http://mock-llm:9090/v1", priority: 2 }
              downgrade_targets: [cheap]`,
    )}${route(
      'tolerant',
      `              namespace: tolerant
              limits: [{ metric: requests, limit: 2, window: minute }]
${redisAt(faultyRedis)}`,
    )}${route(
      'strict',
      `              namespace: strict
              fault_tolerant: false
              limits: [{ metric: requests, limit: 1000, window: minute }]
${redisAt(faultyRedis)}`,
    )}
consumers:
  - username: demo
    keyauth_credentials:
      - key: ${DEMO_API_KEY}
  - username: grouped
    groups: [{ name: gold }]
    keyauth_credentials:
      - key: grouped-key
`;
}

describe('token-limit through Kong', () => {
  let gateway: Gateway;
  let redis: RedisServer;
  let faulty: RedisServer;
  const client = (routeName: string) => new OpenAI({ apiKey: 'unused', baseURL: `${gateway.kong.url}/${routeName}/v1`, defaultHeaders: { apikey: DEMO_API_KEY }, maxRetries: 0 });
  /** Committed (`c`) and reserved (`r`) of every counter of a namespace and limit name. */
  const counters = async (namespace: string, limit: string) => {
    const keys = await redis.client.keys(`tl:{${namespace}:*}:${limit}:*`);
    const values = await Promise.all(keys.map((key) => redis.client.hgetall(key)));
    return {
      committed: values.reduce((sum, value) => sum + Number(value.c ?? 0), 0),
      reserved: values.reduce((sum, value) => sum + Number(value.r ?? 0), 0),
      reservations: values.reduce((sum, value) => sum + Object.keys(value).filter((field) => field.startsWith('x:')).length, 0),
    };
  };
  const status = async () => (await (await fetch(`${gateway.connectorUrl}/__ai/status`)).json()) as { contexts: number; token_limit_local_reservations: number };

  before(async () => {
    redis = await startRedis();
    faulty = await startRedis();
    gateway = await startGateway({ declarativeConfig: writeKongYml(kongYml(redis.port, faulty.port)) });
    gateway.mock.setMode('echo');
  });
  after(async () => {
    await gateway?.stop();
    await redis?.stop();
    await faulty?.stop();
  });

  it('sends OpenAI rate-limit headers, then a 429 in OpenAI shape naming the tier, with Retry-After', async () => {
    for (let index = 0; index < 3; index += 1) {
      const response = await postChat(`${gateway.kong.url}/tiers`, chatRequest(`hello ${index}`));
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('x-ratelimit-limit-requests'), '3');
      assert.equal(response.headers.get('x-ratelimit-remaining-requests'), String(2 - index));
      assert.match(response.headers.get('x-ratelimit-reset-requests') ?? '', /^(\d+ms|[\d.]+s)$/);
      assert.equal(response.headers.get('x-ratelimit-limit-tokens'), '100000');
      assert.ok(Number(response.headers.get('x-ratelimit-remaining-tokens')) < 100000);
      await response.text();
    }
    const refused = await postChat(`${gateway.kong.url}/tiers`, chatRequest('one too many'));
    assert.equal(refused.status, 429);
    const body = (await refused.json()) as { error: { message: string; type: string; code: string } };
    assert.equal(body.error.type, 'requests');
    assert.equal(body.error.code, 'rate_limit_exceeded');
    assert.match(body.error.message, /burst \(requests per minute, by consumer\): limit 3, used 3, requested 1/);
    const retryAfter = Number(refused.headers.get('retry-after'));
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
    assert.equal(refused.headers.get('x-ratelimit-remaining-requests'), '0');
    // The OpenAI SDK reads it as its RateLimitError.
    await assert.rejects(client('tiers').chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'sdk' }] }), (error: unknown) => error instanceof OpenAI.RateLimitError);
  });

  it('hides the headers when configured', async () => {
    const response = await postChat(`${gateway.kong.url}/hidden`, chatRequest('quiet'));
    assert.equal(response.status, 200);
    assert.equal([...response.headers.keys()].filter((name) => name.startsWith('x-ratelimit')).length, 0);
    const refused = await postChat(`${gateway.kong.url}/hidden`, chatRequest('quiet again'));
    assert.equal(refused.status, 429);
    assert.ok(refused.headers.get('retry-after'));
  });

  it('commits exactly the usage the provider reported, streamed or not, and holds no reservation after', async () => {
    const sdk = client('exact');
    let input = 0;
    let output = 0;
    for (const content of ['one two three', 'four five six seven eight', 'nine']) {
      const completion = await sdk.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content }] });
      input += completion.usage!.prompt_tokens;
      output += completion.usage!.completion_tokens;
      const stream = await sdk.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: `${content} streamed` }], stream: true, stream_options: { include_usage: true } });
      for await (const chunk of stream) {
        if (chunk.usage) {
          input += chunk.usage.prompt_tokens;
          output += chunk.usage.completion_tokens;
        }
      }
    }
    assert.ok(input > 0 && output > 0);
    await waitFor(async () => (await counters('exact', 'all')).reserved === 0);
    assert.deepEqual(await counters('exact', 'in'), { committed: input, reserved: 0, reservations: 0 });
    assert.deepEqual(await counters('exact', 'out'), { committed: output, reserved: 0, reservations: 0 });
    assert.deepEqual(await counters('exact', 'all'), { committed: input + output, reserved: 0, reservations: 0 });
  });

  it('charges a stream the client abandons for what was produced, counted by the gateway', async () => {
    const before = await counters('exact', 'out');
    const beforeIn = await counters('exact', 'in');
    gateway.mock.setFaults({ chunkDelayMs: 100 });
    const content = 'alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu';
    const abort = new AbortController();
    const stream = await client('exact').chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content }], stream: true }, { signal: abort.signal });
    let received = '';
    try {
      for await (const chunk of stream) {
        received += chunk.choices[0]?.delta?.content ?? '';
        if (received.length > 0) abort.abort();
      }
    } catch {
      // the abort
    }
    gateway.mock.setFaults({});
    await waitFor(async () => (await counters('exact', 'out')).reserved === 0);
    const charged = (await counters('exact', 'out')).committed - before.committed;
    const counter = tokenCounterFor('openai', 'gpt-4o');
    assert.ok(charged >= counter.count(received), `charged ${charged} for ${JSON.stringify(received)}`);
    assert.ok(charged < counter.count(content), 'not the whole answer');
    const promptCharged = (await counters('exact', 'in')).committed - beforeIn.committed;
    assert.equal(promptCharged, countChatPromptTokens({ messages: [{ role: 'user', content }] }, counter));
    const metrics = await (await fetch(`${gateway.connectorUrl}/metrics`)).text();
    assert.match(metrics, /kong_ai_token_limit_estimated_commits_total\{reason="client_abort"\} [1-9]/);
  });

  it('opens a new window when the old one ends', async () => {
    // Start just after a second boundary, so both requests fall in the same one-second window.
    await sleep(1000 - (Date.now() % 1000) + 20);
    assert.equal((await postChat(`${gateway.kong.url}/rollover`, chatRequest('first'))).status, 200);
    const refused = await postChat(`${gateway.kong.url}/rollover`, chatRequest('second'));
    assert.equal(refused.status, 429);
    assert.equal(refused.headers.get('retry-after'), '1');
    await sleep(Number(refused.headers.get('retry-after-ms')) + 20);
    assert.equal((await postChat(`${gateway.kong.url}/rollover`, chatRequest('next window'))).status, 200);
  });

  it('limits spend in USD at the target price', async () => {
    // 1000 USD per 1M tokens: a few words in and 5 out cost about 0.01 USD, so the 0.05 budget lasts a few requests.
    const statuses: number[] = [];
    for (let index = 0; index < 10; index += 1) {
      const response = await postChat(`${gateway.kong.url}/cost`, chatRequest('spend a little'));
      statuses.push(response.status);
      if (response.status === 429) {
        const body = (await response.json()) as { error: { type: string; message: string } };
        assert.equal(body.error.type, 'insufficient_quota');
        assert.match(body.error.message, /spend \(cost usd per day, by consumer\): limit 0\.05/);
        break;
      }
      assert.equal(response.headers.get('x-ratelimit-limit-cost-usd'), '0.05');
      await response.text();
    }
    assert.equal(statuses.at(-1), 429);
    assert.ok(statuses.length >= 3, `admitted ${statuses.length - 1} before the budget ran out`);
  });

  it('keys by a header value and by consumer group', async () => {
    const team = (name: string) =>
      fetch(`${gateway.kong.url}/teams/v1/chat/completions`, { method: 'POST', headers: { apikey: DEMO_API_KEY, 'content-type': 'application/json', 'x-team': name }, body: JSON.stringify(chatRequest('hi')) });
    assert.equal((await team('search')).status, 200);
    assert.equal((await team('search')).status, 429);
    assert.equal((await team('ads')).status, 200);
    const grouped = () =>
      fetch(`${gateway.kong.url}/groups/v1/chat/completions`, { method: 'POST', headers: { apikey: 'grouped-key', 'content-type': 'application/json' }, body: JSON.stringify(chatRequest('hi')) });
    assert.equal((await grouped()).status, 200);
    assert.equal((await grouped()).status, 429);
    // The demo consumer is in no group: it is keyed by its IP instead, a separate counter.
    assert.equal((await postChat(`${gateway.kong.url}/groups`, chatRequest('hi'))).status, 200);
  });

  it('routes a consumer past a soft limit to the cheaper targets, and says so', async () => {
    const served = [];
    for (let index = 0; index < 4; index += 1) {
      const response = await postChat(`${gateway.kong.url}/downgrade`, chatRequest(`request ${index}`));
      assert.equal(response.status, 200);
      served.push(`${response.headers.get('x-ai-target')} ${response.headers.get('x-ai-routing')?.split(';')[0]}`);
      await response.text();
    }
    assert.deepEqual(served, ['premium priority=1', 'premium priority=1', 'cheap downgrade=monthly-requests', 'cheap downgrade=monthly-requests']);
    assert.equal(JSON.parse(gateway.mock.received.at(-1)!.body).model, 'gpt-4o-mini');
  });

  it('when Redis dies or hangs: fault_tolerant admits, otherwise 503 in bounded time; recovers without restart', async () => {
    assert.equal((await postChat(`${gateway.kong.url}/tolerant`, chatRequest('one'))).status, 200);
    await faulty.kill();
    const tolerated = await postChat(`${gateway.kong.url}/tolerant`, chatRequest('redis down'));
    assert.equal(tolerated.status, 200);
    assert.equal(tolerated.headers.get('x-ratelimit-limit-requests'), null, 'no counts to report');
    const strict = await postChat(`${gateway.kong.url}/strict`, chatRequest('redis down'));
    assert.equal(strict.status, 503);
    assert.equal(((await strict.json()) as { error: { code: string } }).error.code, 'limit_store_unavailable');

    await faulty.start();
    await waitFor(async () => (await postChat(`${gateway.kong.url}/strict`, chatRequest('back'))).status === 200, 10_000);
    // The counters restarted empty (no persistence): two more fit, the third is refused.
    const statuses = [];
    for (let index = 0; index < 3; index += 1) statuses.push((await postChat(`${gateway.kong.url}/tolerant`, chatRequest(`after ${index}`))).status);
    assert.deepEqual(statuses, [200, 200, 429]);

    // A hung Redis (SIGSTOP) costs each request at most about timeout_ms (50 ms), never a hang.
    faulty.pause();
    try {
      const started = Date.now();
      const hung = await postChat(`${gateway.kong.url}/strict`, chatRequest('redis hung'));
      assert.equal(hung.status, 503);
      assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`);
    } finally {
      faulty.resume();
    }
  });

  it('leaves no context and no local reservation behind', async () => {
    await waitFor(async () => {
      const now = await status();
      return now.contexts === 0 && now.token_limit_local_reservations === 0;
    });
    assert.equal((await counters('exact', 'all')).reservations, 0);
  });
});
