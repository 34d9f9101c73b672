// The typed PDK normalises what Kong really sends over msgpack-RPC, answered here by the stand-in's PDK model.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Pdk } from '../../plugins/kong/pdk';
import { RequestModel } from '../kong/pdk-model';
import { MemoryLog } from '../kong/stand-in-log';

/** A kong-pdk style bridge (camelCase path -> snake_case PDK method) answered by the stand-in's request model. */
function bridgeTo(model: RequestModel) {
  const snake = (name: string) => name.replace(/[a-z][A-Z]/g, (pair) => `${pair[0]}_${pair[1]!.toLowerCase()}`);
  const node = (path: string[]): unknown =>
    new Proxy(() => undefined, {
      get: (_target, key: string) => node([...path, snake(key)]),
      apply: async (_target, _this, args: unknown[]) => model.call('test', ['kong', ...path].join('.'), args).data,
    });
  return node([]);
}

function model(body: Buffer, headers: Record<string, string | string[]> = {}) {
  const request = new RequestModel('POST', '/v1/chat/completions', '', headers, body, '10.0.0.1', {
    route: { id: 'route-1', name: 'chat', service: { id: 'service-1' } },
    service: { id: 'service-1', name: 'ai' },
    consumer: null,
    consumerGroups: null,
    credential: null,
  }, new MemoryLog(false));
  request.phase = 'access';
  return request;
}

describe('Pdk over the wire', () => {
  it('reads a body as bytes, including one past the 8 KB client body buffer', async () => {
    const body = Buffer.from('é'.repeat(10_000));
    const pdk = new Pdk(bridgeTo(model(body)));
    assert.deepEqual(await pdk.rawBody(), body);
  });

  it('turns Lua nil (an absent Data) into null', async () => {
    const pdk = new Pdk(bridgeTo(model(Buffer.alloc(0))));
    assert.equal(await pdk.header('x-missing'), null);
    assert.equal(await pdk.consumer(), null);
    assert.equal(await pdk.sharedGet('nothing'), null);
  });

  it('gives every header value as a list, names lower-cased, and the first value for a single header', async () => {
    const pdk = new Pdk(bridgeTo(model(Buffer.alloc(0), { 'X-Tenant': ['a', 'b'], 'Content-Type': 'application/json' })));
    assert.deepEqual(await pdk.headers(), { 'x-tenant': ['a', 'b'], 'content-type': ['application/json'] });
    assert.equal(await pdk.header('X-Tenant'), 'a');
  });

  it('reads the route with its service, and round-trips kong.ctx.shared', async () => {
    const pdk = new Pdk(bridgeTo(model(Buffer.alloc(0))));
    assert.equal((await pdk.route())?.service?.id, 'service-1');
    await pdk.sharedSet('k', 'v');
    assert.equal(await pdk.sharedGet('k'), 'v');
  });

  it('sets upstream headers in one call, visible to later plugins as Kong does', async () => {
    const request = model(Buffer.alloc(0));
    const pdk = new Pdk(bridgeTo(request));
    await pdk.setUpstreamHeaders({ 'X-One': '1', 'X-Two': '2' });
    assert.equal(await pdk.header('x-two'), '2');
  });
});
