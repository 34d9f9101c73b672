// llm-proxy's semantic routing through Kong: requests go to the targets of the route they are about.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEMO_API_KEY, connectorKongYml, startGateway, writeKongYml, type Gateway, routeYml } from '../support/gateway';

function route(name: string, extra: string): string {
  return routeYml(name, {
    buffered: true,
    llmProxy: `              targets:
                - { name: general, provider: openai-compatible, model: general-model, base_url: "http://mock-llm:9090/v1" }
                - { name: coder, provider: openai-compatible, model: coder-model, base_url: "http://mock-llm:9090/v1", priority: 2 }
              aliases: { fast: [general] }
              semantic_routing:
                - name: code
                  examples: ["How do I fix this Python error?", "Write a JavaScript function that sorts an array.", "Why does my SQL query return duplicate rows?"]
                  threshold: 0.6
                  targets: [coder]${extra}`,
  });
}

const KONG_YML = connectorKongYml(`${route('routed', '')}${route('degraded', `
              embedder: { kind: onnx, model_path: /nonexistent/models, timeout_ms: 300 }`)}`);

describe('llm-proxy semantic routing through Kong', () => {
  let gateway: Gateway;
  const ask = async (routeName: string, content: string, model = 'gpt-4o-mini') => {
    const response = await fetch(`${gateway.kong.url}/${routeName}/v1/chat/completions`, {
      method: 'POST',
      headers: { apikey: DEMO_API_KEY, 'content-type': 'application/json' },
      body: JSON.stringify({ model, messages: [{ role: 'user', content }] }),
    });
    await response.text();
    return { status: response.status, model: response.headers.get('x-ai-model'), routing: response.headers.get('x-ai-routing') ?? '' };
  };

  before(async () => {
    gateway = await startGateway({ declarativeConfig: writeKongYml(KONG_YML) });
    gateway.mock.setMode('echo');
  });
  after(async () => gateway?.stop());

  it('sends a question to the targets of the route it is about, saying so in x-ai-routing', async () => {
    const coding = await ask('routed', 'My Java program throws a NullPointerException; how do I debug it?');
    assert.equal(coding.status, 200);
    assert.equal(coding.model, 'coder-model');
    assert.match(coding.routing, /^semantic=code\(0\.\d\d\);/);
    // Not about code: every target, the first priority group first.
    const cooking = await ask('routed', 'What is a good recipe for banana bread?');
    assert.equal(cooking.model, 'general-model');
    assert.doesNotMatch(cooking.routing, /semantic=/);
  });

  it('lets an alias win over meaning', async () => {
    const aliased = await ask('routed', 'Write a Python function that reverses a string.', 'fast');
    assert.equal(aliased.model, 'general-model');
    assert.match(aliased.routing, /^alias=fast;/);
  });

  it('routes without meaning when the embedder cannot load, rather than failing', async () => {
    const answer = await ask('degraded', 'My Java program throws a NullPointerException; how do I debug it?');
    assert.equal(answer.status, 200);
    assert.equal(answer.model, 'general-model');
  });
});
