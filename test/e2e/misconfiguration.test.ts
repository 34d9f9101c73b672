// Bad configuration fails loudly: Kong refuses invalid kong.yml, and a plugin refuses configs only zod can judge.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { REPOSITORY_ROOT, chatRequest, postChat, startGateway, writeKongYml } from '../support/gateway';

function variantOfKongYml(edit: (text: string) => string): string {
  const text = fs.readFileSync(path.join(REPOSITORY_ROOT, 'kong.yml'), 'utf8');
  const edited = edit(text);
  assert.notEqual(edited, text, 'the edit changed nothing');
  return writeKongYml(edited);
}

describe('misconfiguration', () => {
  it('rejects a kong.yml whose plugin config breaks the dumped schema, naming the field', async () => {
    const declarativeConfig = variantOfKongYml((text) => text.replace('provider: openai-compatible', 'provider: carrier-pigeon'));
    await assert.rejects(startGateway({ declarativeConfig }), (error: Error) => {
      assert.match(error.message, /declarative config is invalid/);
      assert.match(error.message, /llm-proxy/);
      assert.match(error.message, /provider/);
      assert.match(error.message, /openai-compatible/);
      return true;
    });
  });

  it('refuses requests with a clear 500 when a provider key is written literally, and sends nothing upstream', async () => {
    const declarativeConfig = variantOfKongYml((text) => text.replace('"{vault://env/mock-llm-api-key}"', 'sk-literal-key-in-kong-yml'));
    const gateway = await startGateway({ declarativeConfig });
    try {
      const response = await postChat(gateway.kong.url, chatRequest('hi'));
      assert.equal(response.status, 500);
      const body = (await response.json()) as { error: { code: string; message: string } };
      assert.equal(body.error.code, 'plugin_misconfigured');
      assert.match(body.error.message, /vault reference/);
      assert.doesNotMatch(body.error.message, /sk-literal-key-in-kong-yml/);
      assert.equal(gateway.mock.received.length, 0);
      // The plugin server never logs the literal key either.
      assert.doesNotMatch(gateway.kong.pluginServer!.output.join(''), /sk-literal-key-in-kong-yml/);
    } finally {
      await gateway.stop();
    }
  });

  it('refuses requests when a policy configured on the route did not run (Kong failed it open)', async () => {
    // Point prompt-guard's plugin server entry at a socket nobody serves: Kong logs the RPC error and goes on.
    const gateway = await startGateway();
    try {
      const guarded = await postChat(gateway.kong.url, chatRequest('warm up every instance'));
      assert.equal(guarded.status, 200);
      const before = gateway.mock.received.length;
      gateway.kong.breakPlugin('prompt-guard');
      const response = await postChat(gateway.kong.url, chatRequest('hi'));
      assert.equal(response.status, 500);
      const body = (await response.json()) as { error: { code: string; message: string } };
      assert.equal(body.error.code, 'policy_not_applied');
      assert.match(body.error.message, /prompt-guard/);
      assert.equal(gateway.mock.received.length, before);
      assert.ok(gateway.kong.log.lines.some((entry) => entry.level === 'error' && entry.line.includes('prompt-guard')));
    } finally {
      await gateway.stop();
    }
  });
});
