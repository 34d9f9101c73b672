// The stand-in models what makes Kong hard for SSE and external plugins: buffering, PDK semantics, Kong's messages.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startGateway, writeKongYml, type Gateway } from '../support/gateway';
import { LuaError, RequestModel } from './pdk-model';
import { MemoryLog } from './stand-in-log';

/** Two routes straight to the mock LLM, no plugins: one buffered (Kong's default), one not. */
const DIRECT = `_format_version: "3.0"
services:
  - name: provider
    url: http://mock-llm:9090/v1
    routes:
      - name: buffered
        paths: [/buffered/v1]
      - name: unbuffered
        paths: [/unbuffered/v1]
        response_buffering: false
`;

const CHUNK_DELAY_MS = 20;

describe('Kong stand-in', () => {
  let gateway: Gateway;
  before(async () => {
    gateway = await startGateway({ declarativeConfig: writeKongYml(DIRECT) });
    gateway.mock.setFaults({ chunkDelayMs: CHUNK_DELAY_MS });
  });
  after(async () => gateway?.stop());

  /** How long the chunks of one stream took to arrive, as a share of the time the mock took to send them. */
  async function arrivalSpread(prefix: string): Promise<number> {
    const client = new OpenAI({ baseURL: `${gateway.kong.url}${prefix}/v1`, apiKey: 'x', maxRetries: 0 });
    const stream = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }], stream: true });
    const arrivals: number[] = [];
    for await (const chunk of stream) arrivals.push(Date.now()), void chunk;
    return (arrivals.at(-1)! - arrivals[0]!) / ((arrivals.length - 1) * CHUNK_DELAY_MS);
  }

  it('holds a streamed answer back on a route with response_buffering (nginx proxy_buffering on)', async () => {
    const spread = await arrivalSpread('/buffered');
    assert.ok(spread < 0.2, `chunks arrived over ${spread} of the sending time`);
  });

  it('passes each event on at once with response_buffering: false', async () => {
    const spread = await arrivalSpread('/unbuffered');
    assert.ok(spread > 0.5, `chunks arrived over ${spread} of the sending time`);
  });

  it('answers an unknown path as Kong does', async () => {
    const response = await fetch(`${gateway.kong.url}/nowhere`);
    assert.equal(response.status, 404);
    assert.deepEqual(await response.json(), { message: 'no Route matched with those values' });
  });
});

describe('Kong stand-in PDK model', () => {
  const entities = { route: { id: 'r' }, service: { id: 's' }, consumer: null, credential: null, consumerGroups: null };

  it('answers an unknown PDK method with nil and an error log line (mp_rpc.lua)', () => {
    const log = new MemoryLog(false);
    const model = new RequestModel('GET', '/', '', {}, Buffer.alloc(0), '127.0.0.1', entities, log);
    model.phase = 'access';
    assert.equal(model.call('p', 'kong.request.get_everything', []).data, undefined);
    assert.match(log.lines[0]!.line, /could not find pdk method: kong.request.get_everything/);
  });

  it('raises a Lua error for a call in the wrong phase, with Kong\'s message', () => {
    const model = new RequestModel('GET', '/', '', {}, Buffer.alloc(0), '127.0.0.1', entities, new MemoryLog(false));
    model.phase = 'log';
    assert.throws(() => model.call('p', 'kong.response.exit', [200]), (error: unknown) => error instanceof LuaError && /cannot be called in log phase/.test((error as Error).message));
    assert.throws(() => model.call('p', 'kong.request.get_method', []), /API disabled in the current context/);
  });

  it('serves bodies over the client body buffer only when asked with a size, as bin', () => {
    const body = Buffer.alloc(9000, 'a');
    const model = new RequestModel('POST', '/', '', {}, body, '127.0.0.1', entities, new MemoryLog(false));
    model.phase = 'access';
    assert.throws(() => model.call('p', 'kong.request.get_raw_body', []), LuaError);
    const answer = model.call('p', 'kong.request.get_raw_body', [0]);
    assert.ok(answer.data instanceof Uint8Array);
    assert.equal((answer.data as Uint8Array).length, 9000);
  });

  it('sends headers through StepMultiMap and typed entities through their own Step methods', () => {
    const model = new RequestModel('GET', '/', '', { 'X-A': 'one' }, Buffer.alloc(0), '127.0.0.1', entities, new MemoryLog(false));
    model.phase = 'access';
    assert.deepEqual(model.call('p', 'kong.request.get_headers', []), { stepMethod: 'plugin.StepMultiMap', data: { 'x-a': ['one'] } });
    assert.equal(model.call('p', 'kong.router.get_route', []).stepMethod, 'plugin.StepRoute');
    assert.equal(model.call('p', 'kong.client.get_consumer', []).stepMethod, 'plugin.StepConsumer');
  });
});
