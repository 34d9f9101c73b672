// OpenAI SDK embeddings through Kong's /v1/embeddings route: the recorded answer intact, usage and cost counted.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import OpenAI from 'openai';
import { costOf, priceOf } from '../../plugins/core/pricing/price-table';
import { DEMO_API_KEY, REPOSITORY_ROOT, startGateway, type Gateway } from '../support/gateway';

const recorded = JSON.parse(fs.readFileSync(path.join(REPOSITORY_ROOT, 'test/fixtures/openai/embeddings.vercel-ai.text-embedding-3-small.trimmed.json'), 'utf8'));

describe('embeddings through Kong (the repo kong.yml)', () => {
  let gateway: Gateway;
  let client: OpenAI;
  before(async () => {
    gateway = await startGateway();
    client = new OpenAI({ baseURL: `${gateway.kong.url}/v1`, apiKey: 'x', defaultHeaders: { apikey: DEMO_API_KEY }, maxRetries: 0 });
  });
  after(async () => gateway?.stop());

  it('answers with the provider payload and counts its usage and cost', async () => {
    const result = await client.embeddings.create({ model: 'any', input: ['sunny day at the beach', 'rainy day in the city'], encoding_format: 'float' });
    assert.deepEqual(result.data.map((item) => item.embedding), recorded.data.map((item: { embedding: number[] }) => item.embedding));
    assert.deepEqual(result.usage, recorded.usage);
    const sent = JSON.parse(gateway.mock.received.at(-1)!.body);
    assert.equal(sent.model, 'text-embedding-3-small');
    assert.equal(gateway.mock.received.at(-1)!.path, '/v1/embeddings');

    await new Promise((resolve) => setTimeout(resolve, 100));
    const line = gateway.kong.pluginServer!.output.join('').split('\n').filter((candidate) => candidate.includes('"msg":"llm request"')).at(-1)!;
    const logged = JSON.parse(line);
    assert.equal(logged['gen_ai.operation.name'], 'embeddings');
    assert.equal(logged['gen_ai.usage.input_tokens'], recorded.usage.prompt_tokens);
    const price = priceOf('openai-compatible', 'text-embedding-3-small')!;
    assert.equal(logged['ai.cost_usd'], costOf({ input_tokens: 12, output_tokens: 0, total_tokens: 12, cached_input_tokens: 0, reasoning_tokens: 0 }, price));
  });

  it('refuses an embeddings request without input, naming it', async () => {
    const response = await fetch(`${gateway.kong.url}/v1/embeddings`, { method: 'POST', headers: { apikey: DEMO_API_KEY, 'content-type': 'application/json' }, body: '{"model":"m"}' });
    assert.equal(response.status, 400);
    assert.match(((await response.json()) as { error: { message: string } }).error.message, /'input'/);
  });
});
