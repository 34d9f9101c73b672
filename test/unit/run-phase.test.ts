// Every outcome of a plugin phase is an explicit decision: exit with an OpenAI error, or continue on purpose.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError, badRequest } from '../../plugins/core/errors';
import { Pdk } from '../../plugins/kong/pdk';
import { runPhase } from '../../plugins/kong/run-phase';

/** A kong-pdk bridge that records the PDK calls made through it. */
function recordingBridge() {
  const calls: Array<{ method: string; args: unknown[] }> = [];
  const bridge = new Proxy({}, { get: (_target, group: string) => new Proxy({}, { get: (_t, method: string) => async (...args: unknown[]) => void calls.push({ method: `${group}.${method}`, args }) }) });
  return { calls, pdk: new Pdk(bridge) };
}

describe('runPhase', () => {
  it('fails closed on an unexpected error: one exit with an OpenAI-shaped 500 that hides internals', async () => {
    const { calls, pdk } = recordingBridge();
    await runPhase({ plugin: 'p', phase: 'access', failMode: 'closed', pdk, work: async () => { throw new TypeError('secret internal detail'); } });
    assert.equal(calls.length, 1);
    assert.equal(calls[0]!.method, 'response.exit');
    const [status, body, headers] = calls[0]!.args as [number, string, Record<string, string>];
    assert.equal(status, 500);
    assert.equal(headers['Content-Type'], 'application/json');
    const parsed = JSON.parse(body);
    assert.deepEqual(Object.keys(parsed.error).sort(), ['code', 'message', 'param', 'type']);
    assert.equal(parsed.error.type, 'server_error');
    assert.doesNotMatch(body, /secret internal detail/);
  });

  it('fails open on an unexpected error when configured to, and reports it', async () => {
    const { calls, pdk } = recordingBridge();
    let reported = false;
    await runPhase({ plugin: 'p', phase: 'access', failMode: 'open', pdk, work: async () => { throw new Error('cache down'); }, onFailOpen: () => (reported = true) });
    assert.equal(calls.length, 0);
    assert.equal(reported, true);
  });

  it('always ends the request on a deliberate rejection, whatever the fail mode, with its status and headers', async () => {
    for (const failMode of ['open', 'closed'] as const) {
      const { calls, pdk } = recordingBridge();
      const rejection = new GatewayError('over budget', { status: 429, type: 'rate_limit_error', code: 'tokens_exceeded', headers: { 'Retry-After': '7' } });
      await runPhase({ plugin: 'p', phase: 'access', failMode, pdk, work: async () => { throw rejection; } });
      assert.equal(calls.length, 1);
      const [status, body, headers] = calls[0]!.args as [number, string, Record<string, string>];
      assert.equal(status, 429);
      assert.equal(headers['Retry-After'], '7');
      assert.equal(JSON.parse(body).error.message, 'over budget');
    }
  });

  it('never exits twice: an error thrown after the plugin already exited is only logged', async () => {
    const { calls, pdk } = recordingBridge();
    await runPhase({ plugin: 'p', phase: 'access', failMode: 'closed', pdk, work: async () => { await pdk.exit(403, '{}', {}); throw new Error('after exit'); } });
    assert.equal(calls.length, 1);
    assert.equal(calls[0]!.args[0], 403);
  });

  it('does not exit in the log phase, where the response has already gone', async () => {
    const { calls, pdk } = recordingBridge();
    await runPhase({ plugin: 'p', phase: 'log', failMode: 'closed', pdk, work: async () => { throw badRequest('late'); } });
    assert.equal(calls.length, 0);
  });
});
