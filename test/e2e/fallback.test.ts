// llm-proxy across several targets: fallback, Retry-After, circuit breaker, deadline and balancing, through Kong.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startMockLlm, type MockLlm } from '../mock-llm/mock-llm';
import { DEMO_API_KEY, connectorKongYml, chatRequest, postChat, startGateway, writeKongYml, type Gateway, routeYml } from '../support/gateway';

/** A route per scenario, so each has its own llm-proxy entity and so its own target health. */
function route(name: string, targets: string, extra = ''): string {
  return routeYml(name, { llmProxy: `              targets:\n${targets}\n${extra}` });
}

const PRIMARY_AND_BACKUP = `                - { name: primary, provider: openai-compatible, base_url: "http://mock-llm:9090/v1", model: m-primary, priority: 1 }
                - { name: backup, provider: openai-compatible, base_url: "http://mock-b:9090/v1", model: m-backup, priority: 2 }`;
const FAST_BREAKER = `              circuit_breaker: { failure_threshold: 2, open_seconds: 1 }
              fallback: { backoff_initial_ms: 0 }`;

const KONG_YML = connectorKongYml(`${route('fallback', PRIMARY_AND_BACKUP, FAST_BREAKER)}${route('rate-limited', PRIMARY_AND_BACKUP, FAST_BREAKER)}${route('client-error', PRIMARY_AND_BACKUP)}${route('streams', PRIMARY_AND_BACKUP, FAST_BREAKER)}${route(
  'deadline',
  PRIMARY_AND_BACKUP,
  `              upstream_timeout_ms: 300
              fallback: { deadline_ms: 500, backoff_initial_ms: 0 }`,
)}${route(
  'weighted',
  `                - { name: heavy, provider: openai-compatible, base_url: "http://mock-llm:9090/v1", weight: 3 }
                - { name: light, provider: openai-compatible, base_url: "http://mock-b:9090/v1", weight: 1 }`,
)}${route(
  'aliases',
  `                - { name: primary, provider: openai-compatible, base_url: "http://mock-llm:9090/v1", model: m-primary, max_tokens: 100, temperature: 0.2 }
                - { name: backup, provider: openai-compatible, base_url: "http://mock-b:9090/v1", model: m-backup }`,
  `              aliases: { fast: [backup], smart: [primary, backup] }
              strict_models: true`,
)}${route(
  'complexity',
  PRIMARY_AND_BACKUP,
  `              complexity_routing:
                - { name: with-tools, tools: true, targets: [primary] }
                - { name: long-prompt, min_prompt_tokens: 50, targets: [backup] }`,
)}${route('all-down', PRIMARY_AND_BACKUP, `              circuit_breaker: { failure_threshold: 1, open_seconds: 30 }
              fallback: { backoff_initial_ms: 0 }`)}`);

describe('llm-proxy fallback across targets', () => {
  let gateway: Gateway;
  let primary: MockLlm;
  let backup: MockLlm;

  before(async () => {
    backup = await startMockLlm();
    gateway = await startGateway({ declarativeConfig: writeKongYml(KONG_YML), replace: { 'http://mock-b:9090/v1': backup.url } });
    primary = gateway.mock;
  });
  after(async () => {
    await gateway?.stop();
    await backup?.close();
  });

  const counts = () => ({ primary: primary.received.length, backup: backup.received.length });
  const faults = (onPrimary: Parameters<MockLlm['setFaults']>[0], onBackup: Parameters<MockLlm['setFaults']>[0] = {}) => {
    primary.setFaults(onPrimary);
    backup.setFaults(onBackup);
  };

  it('moves on to the next priority group on a 5xx, says so in headers, and opens the circuit after repeated failures', async () => {
    faults({ status: 500 });
    const first = await postChat(`${gateway.kong.url}/fallback`, chatRequest('one'));
    assert.equal(first.status, 200);
    assert.equal(first.headers.get('x-ai-target'), 'backup');
    assert.equal(first.headers.get('x-ai-model'), 'm-backup');
    assert.equal(first.headers.get('x-ai-provider'), 'openai-compatible');
    assert.equal(first.headers.get('x-ai-fallback-count'), '1');
    assert.match(first.headers.get('x-ai-upstream-latency-ms') ?? '', /^\d+$/);
    assert.equal(JSON.parse(backup.received.at(-1)!.body).model, 'm-backup');

    await postChat(`${gateway.kong.url}/fallback`, chatRequest('two')); // second consecutive failure: circuit opens
    const before = counts();
    const third = await postChat(`${gateway.kong.url}/fallback`, chatRequest('three'));
    assert.equal(third.status, 200);
    assert.equal(third.headers.get('x-ai-fallback-count'), '0', 'the open target is not even tried');
    assert.deepEqual(counts(), { primary: before.primary, backup: before.backup + 1 });

    // After open_seconds one probe goes to the primary; it has recovered, so it serves again.
    faults({});
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const probe = await postChat(`${gateway.kong.url}/fallback`, chatRequest('probe'));
    assert.equal(probe.headers.get('x-ai-target'), 'primary');
    const after = await postChat(`${gateway.kong.url}/fallback`, chatRequest('closed again'));
    assert.equal(after.headers.get('x-ai-target'), 'primary');
  });

  it('keeps away from a target that answered 429 for as long as its Retry-After says', async () => {
    faults({ status: 429, retryAfterSeconds: 30 });
    const first = await postChat(`${gateway.kong.url}/rate-limited`, chatRequest('one'));
    assert.equal(first.headers.get('x-ai-target'), 'backup');
    faults({});
    const before = counts();
    const second = await postChat(`${gateway.kong.url}/rate-limited`, chatRequest('two'));
    assert.equal(second.headers.get('x-ai-target'), 'backup');
    assert.equal(counts().primary, before.primary, 'the rate-limited target was called within its Retry-After');
  });

  it('passes a provider 4xx through unchanged and does not fall back on it', async () => {
    faults({ status: 400 });
    const before = counts();
    const response = await postChat(`${gateway.kong.url}/client-error`, chatRequest('bad for the provider'));
    assert.equal(response.status, 400);
    const body = (await response.json()) as { error: { message: string; type: string } };
    assert.equal(body.error.type, 'invalid_request_error');
    assert.deepEqual(counts(), { primary: before.primary + 1, backup: before.backup });
    faults({});
  });

  it('falls back for a stream that fails before its first byte, and never after it', async () => {
    const client = new OpenAI({ baseURL: `${gateway.kong.url}/streams/v1`, apiKey: 'x', defaultHeaders: { apikey: DEMO_API_KEY }, maxRetries: 0 });
    faults({ status: 503 });
    const { data: stream, response } = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }], stream: true }).withResponse();
    assert.equal(response.headers.get('x-ai-target'), 'backup');
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    assert.ok(text.length > 0);

    // The primary is healthy again, but cuts its stream after 3 events: bytes reached the client, so no fallback.
    faults({ cutAfterChunks: 3 });
    await new Promise((resolve) => setTimeout(resolve, 1100)); // let the circuit half-open
    const before = counts();
    const cut = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }], stream: true });
    const received: string[] = [];
    await assert.rejects(async () => {
      for await (const chunk of cut) received.push(chunk.choices[0]?.delta?.content ?? '');
    });
    assert.ok(received.length >= 1, 'the first events reached the client');
    assert.deepEqual(counts(), { primary: before.primary + 1, backup: before.backup });
    faults({});
  });

  it('gives up with 504 at the deadline when no target answers in time', async () => {
    faults({ headersDelayMs: 2000 }, { headersDelayMs: 2000 });
    const started = Date.now();
    const response = await postChat(`${gateway.kong.url}/deadline`, chatRequest('slow'));
    const elapsed = Date.now() - started;
    assert.equal(response.status, 504);
    assert.equal(((await response.json()) as { error: { code: string } }).error.code, 'upstream_timeout');
    assert.ok(elapsed < 1500, `took ${elapsed} ms`);
    faults({});
  });

  it('shares traffic by weight within a priority group (smooth weighted round-robin)', async () => {
    const served = { heavy: 0, light: 0 };
    for (let index = 0; index < 40; index += 1) {
      const response = await postChat(`${gateway.kong.url}/weighted`, chatRequest(`w${index}`));
      served[response.headers.get('x-ai-target') as 'heavy' | 'light'] += 1;
    }
    assert.deepEqual(served, { heavy: 30, light: 10 });
  });

  it('sends an alias only to its targets, refuses unknown models when strict, and applies per-target overrides', async () => {
    const fast = await postChat(`${gateway.kong.url}/aliases`, { model: 'fast', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(fast.status, 200);
    assert.equal(fast.headers.get('x-ai-target'), 'backup');
    assert.match(fast.headers.get('x-ai-routing') ?? '', /^alias=fast;/);
    assert.equal(JSON.parse(backup.received.at(-1)!.body).model, 'm-backup');

    const smart = await postChat(`${gateway.kong.url}/aliases`, { model: 'smart', max_tokens: 500, temperature: 1.3, messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(smart.headers.get('x-ai-target'), 'primary');
    const sent = JSON.parse(primary.received.at(-1)!.body);
    assert.equal(sent.max_tokens, 100, 'capped by the target');
    assert.equal(sent.temperature, 0.2, 'set by the target');
    assert.equal(sent.model, 'm-primary');

    const before = counts();
    const unknown = await postChat(`${gateway.kong.url}/aliases`, { model: 'gpt-17', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(unknown.status, 400);
    const body = (await unknown.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'model_not_found');
    assert.match(body.error.message, /fast, smart/);
    assert.deepEqual(counts(), before);
  });

  it('routes by what the request needs: tools to one target, long prompts to another, the rest by priority', async () => {
    const tools = [{ type: 'function', function: { name: 'f', parameters: { type: 'object', properties: {} } } }];
    const withTools = await postChat(`${gateway.kong.url}/complexity`, { ...chatRequest('x'.repeat(400)), tools });
    assert.equal(withTools.headers.get('x-ai-target'), 'primary', 'the first matching rule wins');
    assert.match(withTools.headers.get('x-ai-routing') ?? '', /^rule=with-tools;/);
    const long = await postChat(`${gateway.kong.url}/complexity`, chatRequest('x'.repeat(400)));
    assert.equal(long.headers.get('x-ai-target'), 'backup');
    assert.match(long.headers.get('x-ai-routing') ?? '', /^rule=long-prompt;/);
    const short = await postChat(`${gateway.kong.url}/complexity`, chatRequest('hi'));
    assert.equal(short.headers.get('x-ai-target'), 'primary');
    assert.match(short.headers.get('x-ai-routing') ?? '', /^priority=1;/);
  });

  it('answers 503 with Retry-After while every target is cooling down', async () => {
    faults({ status: 500 }, { status: 500 });
    const first = await postChat(`${gateway.kong.url}/all-down`, chatRequest('fails everywhere'));
    assert.equal(first.status, 500, "the last provider's answer is relayed");
    const second = await postChat(`${gateway.kong.url}/all-down`, chatRequest('nothing left'));
    assert.equal(second.status, 503);
    assert.ok(Number(second.headers.get('retry-after')) >= 1);
    assert.equal(((await second.json()) as { error: { code: string } }).error.code, 'targets_unavailable');
    faults({});
  });
});
