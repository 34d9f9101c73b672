// End to end: the official OpenAI SDK through the Kong stand-in and the real plugin server to the mock LLM.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import OpenAI from 'openai';
import { DEMO_API_KEY, MOCK_PROVIDER_KEY, REPOSITORY_ROOT, postChat, startGateway, type Gateway } from '../support/gateway';

const FIXTURES = path.join(REPOSITORY_ROOT, 'test/fixtures/openai');
const recordedCompletion = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'chat_completion.vercel-ai.gpt-4.1-nano.json'), 'utf8'));
const recordedStream = fs
  .readFileSync(path.join(FIXTURES, 'chat_stream_usage.openai-python.gpt-4o.text.sse'), 'utf8')
  .split('\n\n')
  .filter((event) => event.startsWith('data: {'))
  .map((event) => JSON.parse(event.slice(6)));
const recordedStreamText = recordedStream.map((chunk) => chunk.choices[0]?.delta?.content ?? '').join('');
const recordedStreamUsage = recordedStream.at(-1).usage;

describe('chat completions through Kong (stand-in) with all five plugins', () => {
  let gateway: Gateway;
  let client: OpenAI;

  before(async () => {
    // The most verbose level: even then no body, header or key may reach the log.
    gateway = await startGateway({ pluginServerEnvironment: { AI_LOG_LEVEL: 'trace' } });
    client = new OpenAI({ baseURL: `${gateway.kong.url}/v1`, apiKey: 'unused-by-kong', defaultHeaders: { apikey: DEMO_API_KEY }, maxRetries: 0 });
  });
  after(async () => gateway?.stop());

  it('answers a plain completion with the provider payload and usage intact', async () => {
    const received = gateway.mock.received.length;
    const completion = await client.chat.completions.create({ model: 'anything', messages: [{ role: 'user', content: 'Say hello' }] });
    assert.equal(completion.choices[0]?.message.content, recordedCompletion.choices[0].message.content);
    assert.deepEqual(completion.usage, recordedCompletion.usage);
    const upstream = gateway.mock.received.slice(received);
    assert.equal(upstream.length, 1);
    // The key came from the env vault reference in kong.yml; the target model replaced the client's.
    assert.equal(upstream[0]!.headers.authorization, `Bearer ${MOCK_PROVIDER_KEY}`);
    assert.equal(JSON.parse(upstream[0]!.body).model, 'gpt-4o-mini');
  });

  it('streams chunks as the provider sends them, with usage when asked', async () => {
    gateway.mock.setFaults({ chunkDelayMs: 25 });
    try {
      const stream = await client.chat.completions.create({
        model: 'anything',
        messages: [{ role: 'user', content: 'Stream please' }],
        stream: true,
        stream_options: { include_usage: true },
      });
      const arrivals: number[] = [];
      let text = '';
      let usage: unknown = null;
      for await (const chunk of stream) {
        arrivals.push(Date.now());
        text += chunk.choices[0]?.delta?.content ?? '';
        if (chunk.usage) usage = chunk.usage;
      }
      assert.equal(text, recordedStreamText);
      assert.deepEqual(usage, recordedStreamUsage);
      // Unbuffered: chunks arrive spread over time, not in one burst at the end.
      const spread = arrivals.at(-1)! - arrivals[0]!;
      assert.ok(spread >= (arrivals.length - 1) * 25 * 0.5, `chunks arrived within ${spread} ms`);
    } finally {
      gateway.mock.setFaults({});
    }
  });

  it('asks the provider for usage on every stream but hides the usage chunk from clients that did not ask', async () => {
    const received = gateway.mock.received.length;
    const stream = await client.chat.completions.create({ model: 'anything', messages: [{ role: 'user', content: 'Stream' }], stream: true });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    assert.ok(chunks.length > 1);
    assert.ok(chunks.every((chunk) => !chunk.usage && chunk.choices.length > 0));
    assert.deepEqual(JSON.parse(gateway.mock.received[received]!.body).stream_options, { include_usage: true });
  });

  it('rejects a client without a Kong key before any plugin runs', async () => {
    const response = await fetch(`${gateway.kong.url}/v1/chat/completions`, { method: 'POST', body: '{}' });
    assert.equal(response.status, 401);
  });

  it('answers bad input with an OpenAI-shaped 400 naming the problem, and sends nothing upstream', async () => {
    const received = gateway.mock.received.length;
    const cases: Array<[string, RegExp]> = [
      ['{not json', /not valid JSON/],
      ['{"model":"x"}', /messages/],
      ['{"model":"x","messages":[{"role":"wizard","content":"hi"}]}', /messages\[0\]\.role/],
      ['', /empty/],
    ];
    for (const [body, message] of cases) {
      const response = await postChat(gateway.kong.url, body);
      assert.equal(response.status, 400, body);
      const error = (await response.json()) as { error: { message: string; type: string; code: string } };
      assert.equal(error.error.type, 'invalid_request_error');
      assert.match(error.error.message, message);
      assert.equal(typeof error.error.code, 'string');
    }
    assert.equal(gateway.mock.received.length, received);
  });

  it('reads bodies larger than Kong\'s 8 KB client body buffer', async () => {
    const content = 'x'.repeat(64 * 1024);
    const completion = await client.chat.completions.create({ model: 'anything', messages: [{ role: 'user', content }] });
    assert.ok(completion.choices[0]?.message.content);
    assert.equal(JSON.parse(gateway.mock.received.at(-1)!.body).messages[0].content, content);
  });

  it('never logs request bodies, client keys or the provider key, even at trace level', () => {
    const output = gateway.kong.pluginServer!.output.join('');
    assert.match(output, /AI plugin server ready/); // the output is really captured
    assert.match(output, /"level":20/); // debug lines were written
    for (const secret of [MOCK_PROVIDER_KEY, DEMO_API_KEY, 'Say hello', 'Stream please', 'xxxxxxxx']) assert.ok(!output.includes(secret), `log contains ${secret}`);
    // kong-pdk's per-RPC debug line carries the RPC arguments (bodies included): ours keeps only the method.
    assert.match(output, /rpc: #\d+ method: plugin\.\w+/);
    assert.doesNotMatch(output, /args:/);
  });

  it('logs one line per request with OpenTelemetry GenAI names and the provider-reported usage', () => {
    const lines = gateway.kong.pluginServer!.output.join('').split('\n').filter((line) => line.includes('"msg":"llm request"')).map((line) => JSON.parse(line));
    assert.ok(lines.length >= 3);
    const plain = lines.find((line) => line['ai.stream'] === false && line['ai.outcome'] === 'complete');
    assert.equal(plain['gen_ai.request.model'], 'gpt-4o-mini');
    assert.equal(plain['gen_ai.system'], 'openai-compatible');
    assert.equal(plain['gen_ai.usage.input_tokens'], recordedCompletion.usage.prompt_tokens);
    assert.equal(plain['gen_ai.usage.output_tokens'], recordedCompletion.usage.completion_tokens);
    assert.equal(plain['http.response.status_code'], 200);
  });

  it('exposes Prometheus metrics labelled by route, consumer, provider, model and target', async () => {
    const text = await (await fetch(`${gateway.connectorUrl}/metrics`)).text();
    const sample = (name: string, labels: string) => {
      const line = text.split('\n').find((candidate) => candidate.startsWith(`${name}{`) && labels.split(',').every((label) => candidate.includes(label)));
      return line === undefined ? null : Number(line.split(' ').at(-1));
    };
    const labels = 'consumer="demo",provider="openai-compatible",model="gpt-4o-mini"';
    assert.ok((sample('kong_ai_llm_requests_total', `${labels},status="200"`) ?? 0) >= 4);
    // Plain completions replay the recorded usage: at least one request's worth of its prompt tokens was counted.
    assert.ok((sample('kong_ai_llm_tokens_total', `${labels},type="input"`) ?? 0) >= recordedCompletion.usage.prompt_tokens);
    assert.ok((sample('kong_ai_llm_provider_latency_seconds_count', 'provider="openai-compatible"') ?? 0) >= 4);
    assert.ok((sample('kong_ai_llm_time_to_first_token_seconds_count', 'provider="openai-compatible"') ?? 0) >= 2);
    assert.match(text, /kong_ai_process_resident_memory_bytes/);
    assert.doesNotMatch(text, /route="unknown"/, 'the route label comes from the plugin scope');
  });

  it('refuses requests sent straight to the connector with an absent or forged id', async () => {
    const received = gateway.mock.received.length;
    const attempts: Array<Record<string, string>> = [{}, { 'x-ai-gateway-context': 'forged-id' }, { 'x-ai-gateway-context': '' }];
    for (const headers of attempts) {
      const response = await fetch(`${gateway.connectorUrl}/v1/chat/completions`, { method: 'POST', headers, body: '{"messages":[{"role":"user","content":"hi"}]}' });
      assert.equal(response.status, 403);
      const error = (await response.json()) as { error: { type: string; code: string } };
      assert.equal(error.error.type, 'permission_error');
    }
    assert.equal(gateway.mock.received.length, received);
  });
});
