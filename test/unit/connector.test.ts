// The connector runs plugins' response hooks on every chunk and exactly once at the end, whatever happens.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { RequestContextStore, type RequestContext } from '../../plugins/core/context/request-context-store';
import { CONTEXT_HEADER, startConnector } from '../../plugins/core/connector/connector';
import type { EndReason, ResponseSummary, StreamHooks } from '../../plugins/core/connector/stream-hooks';
import { startMockLlm, type MockLlm } from '../mock-llm/mock-llm';
import { AnswerRefused } from '../../plugins/core/errors';
import { admits, circuitState, healthOf } from '../../plugins/core/routing/target-health';

describe('connector stream hooks', () => {
  let mock: MockLlm;
  let connector: http.Server;
  let store: RequestContextStore;
  let url: string;

  before(async () => {
    mock = await startMockLlm({ mode: 'echo' });
    store = new RequestContextStore({ orphanAfterMs: 60_000, maxLifetimeMs: 60_000, sweepEveryMs: 60_000 });
    connector = await startConnector(store, { host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(connector.address() as AddressInfo).port}`;
  });
  after(async () => {
    connector.close();
    store.close();
    await mock.close();
  });

  /** Registers a request as llm-proxy would, with a hook that records what it sees. */
  function admit(content: string, stream: boolean) {
    const context: RequestContext = store.create(Buffer.alloc(0));
    const body = JSON.stringify({ model: 'm', messages: [{ role: 'user', content }], stream, ...(stream ? { stream_options: { include_usage: true } } : {}) });
    context.plan = {
      operation: 'chat',
      request: JSON.parse(body),
      attempts: [{ targetKey: `connector-test/${context.id}`, targetName: 'mock', provider: 'openai', wireFormat: 'openai', model: 'm', url: `${mock.url}/chat/completions`, headers: { 'content-type': 'application/json' }, body, timeoutMs: 2000, maxOutputTokens: null, price: { input: 1, output: 2 } }],
      retry: { retryOn: new Set(), retryOnStatus: new Set(), maxAttempts: 1, backoffInitialMs: 0, backoffMaxMs: 0, deadlineMs: 10_000, circuitBreaker: { failureThreshold: 5, openMs: 1000 } },
      stream,
      clientFormat: 'openai',
      clientWantsUsage: false,
      routing: 'test',
      labels: { route: 'connector-test' },
    };
    const seen = { chunks: 0, ends: [] as Array<{ reason: EndReason; summary: ResponseSummary }> };
    const hook: StreamHooks = {
      name: 'recorder',
      onChunk: ({ event, data }) => ((seen.chunks += 1), [{ event, data: data.replace(/secret/g, 'public') }]),
      onEnd: (reason, summary) => void seen.ends.push({ reason, summary: { ...summary } }),
    };
    context.hooks.push(hook);
    return { context, seen };
  }

  const waitFor = async (condition: () => boolean) => {
    for (let attempt = 0; attempt < 100 && !condition(); attempt += 1) await new Promise((resolve) => setTimeout(resolve, 20));
  };

  it('rewrites a whole answer and reports usage and text once', async () => {
    const { context, seen } = admit('the secret word', false);
    const response = await fetch(url, { method: 'POST', headers: { [CONTEXT_HEADER]: context.id }, body: '{}' });
    const body = (await response.json()) as { choices: Array<{ message: { content: string } }> };
    assert.equal(body.choices[0]?.message.content, 'the public word');
    await waitFor(() => seen.ends.length > 0);
    assert.equal(seen.ends.length, 1);
    assert.equal(seen.ends[0]!.reason.kind, 'complete');
    assert.equal(seen.ends[0]!.summary.text, 'the secret word'); // what the provider said, before hooks
    assert.ok(seen.ends[0]!.summary.usage && seen.ends[0]!.summary.usage.output_tokens === 3);
    const usage = seen.ends[0]!.summary.usage;
    assert.equal(seen.ends[0]!.summary.costUsd, (usage.input_tokens * 1 + usage.output_tokens * 2) / 1e6);
    store.markLogged(context.id);
    assert.equal(store.get(context.id), undefined);
  });

  it('rewrites every streamed event and ends with [DONE], usage withheld from a client that did not ask', async () => {
    const { context, seen } = admit('a secret in a stream', true);
    const response = await fetch(url, { method: 'POST', headers: { [CONTEXT_HEADER]: context.id }, body: '{}' });
    assert.equal(response.headers.get('x-accel-buffering'), 'no');
    const text = await response.text();
    assert.ok(text.endsWith('data: [DONE]\n\n'));
    assert.doesNotMatch(text, /"usage":\{/);
    await waitFor(() => seen.ends.length > 0);
    assert.ok(seen.chunks > 3);
    assert.equal(seen.ends[0]!.reason.kind, 'complete');
    assert.equal(seen.ends[0]!.summary.text, 'a secret in a stream');
    assert.ok(seen.ends[0]!.summary.usage);
  });

  it('turns an answer a hook refuses into an error, without retrying or blaming the target (a half-open probe ends)', async () => {
    for (const stream of [false, true]) {
      const { context, seen } = admit('a refused answer', stream);
      const refusing: StreamHooks = {
        name: 'refuser',
        onChunk: () => {
          throw new AnswerRefused('The request was refused.', { status: 400, type: 'invalid_request_error', code: 'request_blocked' });
        },
      };
      context.hooks.unshift(refusing);
      // The target's circuit is half-open: this call is its probe.
      const health = healthOf(context.plan!.attempts[0]!.targetKey);
      Object.assign(health, { consecutiveFailures: 5, openUntil: Date.now() - 1 });
      const calls = mock.received.length;
      const response = await fetch(url, { method: 'POST', headers: { [CONTEXT_HEADER]: context.id }, body: '{}' });
      const text = await response.text();
      if (stream) {
        assert.doesNotMatch(text, /\[DONE\]/);
        assert.match(text, /"code":"request_blocked"/);
      } else {
        assert.equal(response.status, 400);
        assert.equal((JSON.parse(text) as { error: { code: string } }).error.code, 'request_blocked');
      }
      assert.equal(mock.received.length, calls + 1, 'no retry');
      await waitFor(() => seen.ends.length > 0);
      assert.equal(circuitState(health), 'closed');
      assert.equal(admits(health), true);
    }
  });

  it('admits an id only once', async () => {
    const { context } = admit('once', false);
    const first = await fetch(url, { method: 'POST', headers: { [CONTEXT_HEADER]: context.id }, body: '{}' });
    await first.text();
    const second = await fetch(url, { method: 'POST', headers: { [CONTEXT_HEADER]: context.id }, body: '{}' });
    assert.equal(second.status, 403);
  });

  it('ends a stream the provider cuts with an SSE error event and no [DONE], and says so to the hooks', async () => {
    mock.setFaults({ cutAfterChunks: 3 });
    try {
      const { context, seen } = admit('this stream will be cut short by the provider', true);
      const text = await (await fetch(url, { method: 'POST', headers: { [CONTEXT_HEADER]: context.id }, body: '{}' })).text();
      assert.doesNotMatch(text, /\[DONE\]/);
      assert.match(text, /data: \{"error":\{"message":"[^"]+","type":"server_error"/);
      await waitFor(() => seen.ends.length > 0);
      assert.equal(seen.ends.length, 1);
      assert.equal(seen.ends[0]!.reason.kind, 'upstream_error');
      assert.ok(seen.ends[0]!.summary.text.length > 0, 'what was produced before the cut is reported');
    } finally {
      mock.setFaults({});
    }
  });

  it('tells the hooks when the client walks away mid-stream', async () => {
    mock.setFaults({ chunkDelayMs: 30 });
    try {
      const { context, seen } = admit('a long answer that the client will not wait for', true);
      await new Promise<void>((resolve) => {
        const request = http.request(url, { method: 'POST', headers: { [CONTEXT_HEADER]: context.id } }, (response) => {
          response.once('data', () => (request.destroy(), resolve()));
        });
        request.on('error', () => undefined);
        request.end('{}');
      });
      await waitFor(() => seen.ends.length > 0);
      assert.equal(seen.ends.length, 1);
      assert.equal(seen.ends[0]!.reason.kind, 'client_abort');
      assert.equal(context.inFlight, false);
    } finally {
      mock.setFaults({});
    }
  });

  it('answers an unreachable provider with an OpenAI-shaped 502 before any byte, and a slow one with 504', async () => {
    const { context: unreachable } = admit('x', false);
    unreachable.plan!.attempts[0]!.url = 'http://127.0.0.1:1/v1/chat/completions';
    const response = await fetch(url, { method: 'POST', headers: { [CONTEXT_HEADER]: unreachable.id }, body: '{}' });
    assert.equal(response.status, 502);
    assert.equal(((await response.json()) as { error: { code: string } }).error.code, 'upstream_unreachable');

    mock.setFaults({ headersDelayMs: 500 });
    try {
      const { context: slow } = admit('x', false);
      slow.plan!.attempts[0]!.timeoutMs = 100;
      const timedOut = await fetch(url, { method: 'POST', headers: { [CONTEXT_HEADER]: slow.id }, body: '{}' });
      assert.equal(timedOut.status, 504);
      assert.equal(((await timedOut.json()) as { error: { code: string } }).error.code, 'upstream_timeout');
    } finally {
      mock.setFaults({});
    }
  });
});
