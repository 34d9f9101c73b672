// Faults while traffic flows: Redis stopped and restarted under load, and slow readers beside fast ones; nothing leaks.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import OpenAI from 'openai';
import { DEMO_API_KEY, connectorKongYml, startGateway, writeKongYml, routeYml, type Gateway } from '../support/gateway';
import { startRedis, type RedisServer } from '../support/redis-server';
import { waitFor } from '../support/wait-for';
import { storedBudget } from '../support/shared-budget';

const TARGET = `              targets:
                - { provider: openai-compatible, model: gpt-4o-mini, base_url: "http://mock-llm:9090/v1" }`;

/** One route where both Redis users sit: token-limit (policy redis, fault tolerant) and semantic-cache (fail open). */
function kongYml(redisPort: number): string {
  const redis = `redis: { host: 127.0.0.1, port: ${redisPort}, timeout_ms: 200 }`;
  return connectorKongYml(`${routeYml('shared', {
      plugins: [
        ['semantic-cache', `              namespace: faults
              match: exact
              ${redis}`],
        ['token-limit', `              namespace: faults
              policy: redis
              ${redis}
              limits: [{ metric: total_tokens, limit: 100000000, window: hour }]`],
      ],
      llmProxy: TARGET,
    })}`);
}

interface Status {
  contexts: number;
  pending_events: number;
  token_limit_local_reservations: number;
}

describe('faults under load', () => {
  let gateway: Gateway;
  let redis: RedisServer;
  let client: OpenAI;
  const status = async () => (await (await fetch(`${gateway.connectorUrl}/__ai/status`)).json()) as Status;
  const committedTokens = async () => (await storedBudget([redis.client], 'faults')).committed;

  before(async () => {
    redis = await startRedis();
    gateway = await startGateway({ declarativeConfig: writeKongYml(kongYml(redis.port)) });
    gateway.mock.setMode('echo');
    client = new OpenAI({ baseURL: `${gateway.kong.url}/shared/v1`, apiKey: 'x', defaultHeaders: { apikey: DEMO_API_KEY }, maxRetries: 0, timeout: 10_000 });
  });
  after(async () => {
    await gateway?.stop();
    await redis?.stop();
  });

  it('Redis stopped and restarted under mixed load: every request answered, the cache bypassed then back, counting resumed, nothing left', async () => {
    let phase: 'up' | 'down' | 'back' = 'up';
    const outcomes = new Map<string, number>();
    const failures: string[] = [];
    let stop = false;
    let index = 0;
    // Counted by the phase a request started in.
    const record = (started: string, key: string) => outcomes.set(`${started} ${key}`, (outcomes.get(`${started} ${key}`) ?? 0) + 1);
    const worker = async () => {
      while (!stop) {
        const number = index++;
        const started = phase;
        try {
          if (number % 4 === 3) {
            // A stream, unique: never cached, always counted.
            const stream = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: `stream ${number}` }], stream: true });
            let text = '';
            for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
            if (text !== `stream ${number}`) failures.push(`${started}: stream ${number} answered ${JSON.stringify(text)}`);
            record(started, 'stream');
          } else {
            // One of ten questions asked over and over (cache hits), or a unique one.
            const question = number % 4 === 0 ? `unique ${number}` : `repeated ${number % 10}`;
            const { data, response } = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: question }] }).withResponse();
            if (data.choices[0]?.message.content !== question) failures.push(`${started}: ${question} answered ${JSON.stringify(data.choices[0]?.message.content)}`);
            record(started, response.headers.get('x-cache-status') ?? 'no cache status');
          }
        } catch (error) {
          failures.push(`${started}: request ${number} failed: ${(error as Error).message}`);
        }
      }
    };
    const workers = Array.from({ length: 6 }, worker);

    await new Promise((resolve) => setTimeout(resolve, 1500));
    const committedBefore = await committedTokens();
    assert.ok(committedBefore > 0, 'token-limit counted nothing while Redis was up');
    await redis.kill();
    phase = 'down';
    await new Promise((resolve) => setTimeout(resolve, 2000));
    await redis.start(); // empty: no persistence
    phase = 'back';
    // Both plugins reconnect on their own: cache hits come back, and counters fill again.
    await waitFor(async () => (outcomes.get('back Hit') ?? 0) > 0 && (await committedTokens()) > 0, 10_000);
    stop = true;
    await Promise.all(workers);

    const summary = Object.fromEntries([...outcomes].sort());
    process.stdout.write(`# outcomes by phase: ${JSON.stringify(summary)}\n`);
    assert.deepEqual(failures, [], 'every request is answered correctly, whatever Redis does');
    assert.ok((summary['up Hit'] ?? 0) > 0, 'no cache hit before the fault');
    assert.ok((summary['down Bypass'] ?? 0) > 0, 'the cache was not bypassed while Redis was down');
    assert.equal(summary['down Hit'] ?? 0, 0, 'a hit without Redis');
    assert.ok((summary['back Hit'] ?? 0) > 0, 'no cache hit after Redis came back');

    await waitFor(async () => {
      const now = await status();
      return now.contexts === 0 && now.pending_events === 0 && now.token_limit_local_reservations === 0;
    }, 5000);
    assert.equal((await storedBudget([redis.client], 'faults')).reservations, 0, 'reservations left in Redis');
  });

  it('a slow reader gets its whole stream, does not hold up other clients, and leaves nothing behind', async () => {
    // A long answer (the echo of a 3.6 KB prompt: about 1,400 small events), not read at all for 2 s (the
    // socket buffers fill and push back), then read in pieces with pauses.
    const prompt = 'slow reader '.repeat(300);
    const slow = new Promise<{ text: string; pauses: number }>((resolve, reject) => {
      const request = http.request(`${gateway.kong.url}/shared/v1/chat/completions`, { method: 'POST', headers: { apikey: DEMO_API_KEY, 'content-type': 'application/json', 'cache-control': 'no-store' } }, (response) => {
        let body = '';
        let pauses = 0;
        response.setEncoding('utf8');
        response.pause();
        setTimeout(() => response.resume(), 2000);
        response.on('data', (chunk: string) => {
          body += chunk;
          response.pause();
          pauses += 1;
          setTimeout(() => response.resume(), 5);
        });
        response.on('end', () => resolve({ text: body, pauses }));
        response.on('error', reject);
      });
      request.on('error', reject);
      request.end(JSON.stringify({ model: 'm', messages: [{ role: 'user', content: prompt }], stream: true }));
    });
    // Meanwhile other clients are served at their usual pace.
    const started = Date.now();
    const quick = await Promise.all(Array.from({ length: 20 }, (_, number) => client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: `quick ${number}` }] })));
    const quickMs = Date.now() - started;
    assert.equal(quick.length, 20);
    const { text, pauses } = await slow;
    assert.ok(pauses > 1, `the reader paused only ${pauses} times`);
    const content = text
      .split('\n')
      .filter((line) => line.startsWith('data: {'))
      .map((line) => (JSON.parse(line.slice(6)) as { choices: Array<{ delta: { content?: string } }> }).choices[0]?.delta.content ?? '')
      .join('');
    assert.equal(content, prompt, 'the slow reader lost part of its stream');
    assert.match(text, /data: \[DONE\]/);
    assert.ok(quickMs < 5000, `20 quick requests took ${quickMs} ms beside the slow reader`);
    await waitFor(async () => (await status()).contexts === 0, 5000);
  });
});
