// The request context store and kong-pdk's event table return to empty after many requests of every kind.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import OpenAI from 'openai';
import { DEMO_API_KEY, startGateway, type Gateway } from '../support/gateway';

/** Starts a streamed completion and destroys the connection as soon as the first bytes arrive. */
function abandonStream(url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: 'POST', headers: { apikey: DEMO_API_KEY, 'content-type': 'application/json' } }, (response) => {
      response.once('data', () => {
        request.destroy();
        resolve();
      });
      response.once('end', resolve);
    });
    request.on('error', (error) => (request.destroyed ? resolve() : reject(error)));
    request.end(JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'stream' }], stream: true }));
  });
}

const REQUESTS = Number(process.env.LIFECYCLE_REQUESTS ?? 10_000);
const CONCURRENCY = 24;

describe('request contexts are always freed', () => {
  let gateway: Gateway;
  before(async () => {
    // The repo kong.yml, with a token budget this many requests a minute cannot spend: the test is about lifecycles.
    gateway = await startGateway({ replace: { 'limit: 1000000, window: minute': 'limit: 1000000000, window: minute' } });
  });
  after(async () => gateway?.stop());

  async function status(): Promise<{ contexts: number; pending_events: number; token_limit_local_reservations: number }> {
    return (await (await fetch(`${gateway.connectorUrl}/__ai/status`)).json()) as { contexts: number; pending_events: number; token_limit_local_reservations: number };
  }

  it(`holds no context, pending RPC event or token reservation after ${REQUESTS} mixed requests`, async () => {
    const client = new OpenAI({ baseURL: `${gateway.kong.url}/v1`, apiKey: 'x', defaultHeaders: { apikey: DEMO_API_KEY }, maxRetries: 0 });
    const outcomes = { ok: 0, stream: 0, rejected: 0, aborted: 0 };
    let next = 0;
    let peak = 0;
    const worker = async () => {
      while (next < REQUESTS) {
        const index = next++;
        const kind = index % 10;
        if (kind < 6) {
          await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: `hello ${index}` }] });
          outcomes.ok += 1;
        } else if (kind < 8) {
          const stream = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'stream' }], stream: true });
          for await (const chunk of stream) void chunk;
          outcomes.stream += 1;
        } else if (kind === 8) {
          // Rejected by llm-proxy's access phase: kong.response.exit, after which Kong never steps the event again.
          const response = await fetch(`${gateway.kong.url}/v1/chat/completions`, { method: 'POST', headers: { apikey: DEMO_API_KEY }, body: '{oops' });
          assert.equal(response.status, 400);
          await response.arrayBuffer();
          outcomes.rejected += 1;
        } else {
          // The client walks away in the middle of a stream: its socket closes after the first bytes.
          await abandonStream(`${gateway.kong.url}/v1/chat/completions`);
          outcomes.aborted += 1;
        }
        if (index % 500 === 0) peak = Math.max(peak, (await status()).contexts);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    assert.equal(outcomes.ok + outcomes.stream + outcomes.rejected + outcomes.aborted, REQUESTS);
    // Log phases run after responses: give the last ones a moment, then everything must be gone.
    const deadline = Date.now() + 5000;
    let last = await status();
    while ((last.contexts > 0 || last.pending_events > 0 || last.token_limit_local_reservations > 0) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      last = await status();
    }
    assert.equal(last.contexts, 0, 'request contexts left behind');
    assert.equal(last.pending_events, 0, 'RPC events left behind');
    assert.equal(last.token_limit_local_reservations, 0, 'token reservations left behind');
    assert.ok(peak <= CONCURRENCY * 2, `peak of ${peak} live contexts for ${CONCURRENCY} concurrent clients`);
  });
});
