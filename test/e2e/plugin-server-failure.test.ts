// Killing the plugin server fails requests closed, plain or mid-stream: an error for the client, nothing unguarded upstream.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { DEMO_API_KEY, chatRequest, postChat, startGateway, type Gateway } from '../support/gateway';

describe('plugin server killed mid-traffic', () => {
  let gateway: Gateway;
  before(async () => {
    // Kong respawns a dead plugin server after a second; the test restarts it itself, when it chooses.
    gateway = await startGateway({ respawn: false });
  });
  after(async () => gateway?.stop());

  const send = async (index: number) => {
    const response = await postChat(gateway.kong.url, chatRequest(`request ${index}`)).catch(() => null);
    if (!response) return { status: 0, text: '' };
    return { status: response.status, text: await response.text() };
  };

  it('fails requests with 5xx while it is down, sends nothing unguarded, and serves again after Kong respawns it', async () => {
    const concurrency = 8;
    const before = gateway.mock.received.length;
    const results: Array<{ status: number; text: string }> = [];
    let index = 0;
    const traffic = (async () => {
      while (index < 400) {
        const batch = await Promise.all(Array.from({ length: concurrency }, () => send(index++)));
        results.push(...batch);
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 150));
    gateway.kong.pluginServer!.kill('SIGKILL');
    await traffic;

    const succeeded = results.filter((result) => result.status === 200);
    const failed = results.filter((result) => result.status !== 200);
    assert.ok(failed.length > 0, 'no request hit the outage');
    for (const result of failed) assert.ok(result.status >= 500 && result.status < 600, `unexpected status ${result.status}: ${result.text}`);
    // The provider saw the requests that succeeded, plus at most the ones already in the connector when it died.
    const reached = gateway.mock.received.length - before;
    assert.ok(reached >= succeeded.length && reached <= succeeded.length + concurrency, `${reached} reached the provider, ${succeeded.length} succeeded`);

    // While the server is down, nothing at all reaches the provider: Kong fails its RPCs open and
    // proxies to the connector, which is gone too (502).
    const whileDown = gateway.mock.received.length;
    for (let attempt = 0; attempt < 20; attempt += 1) {
      const result = await send(attempt);
      assert.ok(result.status >= 500 && result.status < 600, `status ${result.status} while down`);
    }
    assert.equal(gateway.mock.received.length, whileDown);
    assert.ok(gateway.kong.log.lines.some((entry) => entry.level === 'error'), 'Kong logged the failed RPCs');

    // Kong respawns the server; its stale instance ids are re-created on "no plugin instance".
    gateway.kong.pluginServer!.start();
    const deadline = Date.now() + 10_000;
    let recovered = false;
    while (!recovered && Date.now() < deadline) {
      recovered = (await send(-1)).status === 200;
      if (!recovered) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.ok(recovered, 'the gateway did not serve again after the plugin server came back');
  });

  it('killed mid-stream: every open stream ends in an error, never a clean end; after the respawn, streams work again', async () => {
    const client = new OpenAI({ baseURL: `${gateway.kong.url}/v1`, apiKey: 'x', defaultHeaders: { apikey: DEMO_API_KEY }, maxRetries: 0, timeout: 10_000 });
    const streamOnce = async (content: string, onFirstChunk: () => void = () => {}) => {
      const stream = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content }], stream: true });
      let chunks = 0;
      for await (const chunk of stream) {
        void chunk;
        if (chunks++ === 0) onFirstChunk();
      }
      return chunks;
    };
    // Slow streams (an event every 100 ms), so all eight are mid-way when the server dies.
    gateway.mock.setFaults({ chunkDelayMs: 100 });
    try {
      let started = 0;
      let allStarted: () => void = () => {};
      const streaming = new Promise<void>((resolve) => (allStarted = resolve));
      const outcomes = Array.from({ length: 8 }, (_, index) =>
        streamOnce(`stream ${index}`, () => ++started === 8 && allStarted()).then(
          (chunks) => ({ ended: 'cleanly' as const, chunks }),
          (error: unknown) => ({ ended: 'in error' as const, message: (error as Error).message }),
        ),
      );
      await streaming;
      const reachedBefore = gateway.mock.received.length;
      gateway.kong.pluginServer!.kill('SIGKILL');
      const results = await Promise.all(outcomes);
      assert.deepEqual(results.map((result) => result.ended), Array(8).fill('in error'), JSON.stringify(results));

      // Down: nothing reaches the provider, streamed or not.
      for (let attempt = 0; attempt < 5; attempt += 1) await assert.rejects(streamOnce(`while down ${attempt}`));
      assert.equal(gateway.mock.received.length, reachedBefore);
    } finally {
      gateway.mock.setFaults({});
    }
    gateway.kong.pluginServer!.start();
    const deadline = Date.now() + 10_000;
    let chunks = 0;
    while (chunks === 0 && Date.now() < deadline) {
      chunks = await streamOnce('after the respawn').catch(() => 0);
      if (chunks === 0) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.ok(chunks > 1, 'no stream completed after the plugin server came back');
  });
});
