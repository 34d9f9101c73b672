// Azure and Mistral calls, checked against their APIs' documented shapes and recorded Mistral payloads.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { GatewayError } from '../../plugins/core/errors';
import { ServerSentEventParser } from '../../plugins/core/http/server-sent-events';
import { buildProviderRequest } from '../../plugins/core/providers/build-provider-request';
import { MistralResponseTranslator } from '../../plugins/core/providers/mistral/mistral-response-translator';
import { REPOSITORY_ROOT } from '../support/gateway';

const mistralFixture = (name: string) => fs.readFileSync(path.join(REPOSITORY_ROOT, 'test/fixtures/mistral', name), 'utf8');
const request = { messages: [{ role: 'user' as const, content: 'hi' }], user: 'u-1', seed: 7, max_completion_tokens: 64, stream_options: { include_usage: true } };
const options = { model: 'm', apiKey: 'secret', stream: true, defaultMaxTokens: 1024 };

describe('Azure OpenAI calls', () => {
  it('address the deployment with an api-version and authenticate with api-key', () => {
    const call = buildProviderRequest('azure', request, { ...options, model: 'gpt-4o-prod', baseUrl: 'https://acme.openai.azure.com/' });
    assert.equal(call.url, 'https://acme.openai.azure.com/openai/deployments/gpt-4o-prod/chat/completions?api-version=2024-10-21');
    assert.equal(call.headers['api-key'], 'secret');
    assert.equal(call.headers.authorization, undefined);
    assert.deepEqual(JSON.parse(call.body).stream_options, { include_usage: true });
    assert.equal(call.wireFormat, 'openai');
    const versioned = buildProviderRequest('azure', request, { ...options, baseUrl: 'https://acme.openai.azure.com', azureApiVersion: '2025-01-01-preview' });
    assert.match(versioned.url, /api-version=2025-01-01-preview$/);
  });
});

describe('Mistral calls', () => {
  it("speak Mistral's dialect: random_seed, max_tokens, no fields it would reject", () => {
    const call = buildProviderRequest('mistral', request, { ...options, baseUrl: 'https://api.mistral.ai/v1' });
    assert.equal(call.url, 'https://api.mistral.ai/v1/chat/completions');
    assert.equal(call.headers.authorization, 'Bearer secret');
    const body = JSON.parse(call.body);
    assert.deepEqual(body, { messages: [{ role: 'user', content: 'hi' }], model: 'm', max_tokens: 64, random_seed: 7, stream: true });
    assert.throws(() => buildProviderRequest('mistral', { ...request, logprobs: true } as never, { ...options, baseUrl: 'x' }), (error: unknown) => error instanceof GatewayError && error.status === 400 && /'logprobs'/.test(error.message));
  });

  it('read usage and text from a recorded Mistral answer', () => {
    const recorded = JSON.parse(mistralFixture('chat-completion-text.json'));
    const translated = new MistralResponseTranslator().translateBody(mistralFixture('chat-completion-text.json'));
    assert.equal(translated.text, recorded.choices[0].message.content);
    assert.equal(translated.usage?.input_tokens, recorded.usage.prompt_tokens);
    assert.equal(translated.usage?.output_tokens, recorded.usage.completion_tokens);
  });

  it('read usage from the last chunk of a recorded Mistral stream, and pass tool calls on', () => {
    const translator = new MistralResponseTranslator();
    const parser = new ServerSentEventParser();
    const events = [...parser.push(Buffer.from(mistralFixture('stream-tool-call.sse'))), ...parser.end()].flatMap((event) => translator.translateEvent(event));
    assert.deepEqual(translator.usage, { input_tokens: 55, output_tokens: 18, total_tokens: 73, cached_input_tokens: 0, reasoning_tokens: 0 });
    assert.equal(events.at(-1)!.kind, 'done');
    const toolChunk = events.map((event) => (event.kind === 'content' ? JSON.parse(event.data) : null)).find((chunk) => chunk?.choices[0]?.delta?.tool_calls);
    assert.equal(toolChunk.choices[0].delta.tool_calls[0].function.name, 'llm_version');
  });

  it("map Mistral's own finish reasons and error bodies to OpenAI's", () => {
    const translator = new MistralResponseTranslator();
    const [event] = translator.translateEvent({ event: null, data: '{"id":"x","choices":[{"index":0,"delta":{"content":""},"finish_reason":"model_length"}]}' });
    assert.equal(JSON.parse(event!.data).choices[0].finish_reason, 'length');
    const error = JSON.parse(translator.translateError(422, '{"detail":[{"type":"extra_forbidden","loc":["body","foo"],"msg":"Extra inputs are not permitted"}]}'));
    assert.equal(error.error.type, 'invalid_request_error');
    assert.match(error.error.message, /Extra inputs are not permitted/);
  });
});
