// The embedders behind one interface: a tiny ONNX model through transformers.js, USE-lite, and a remote endpoint over real HTTP.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { closeEmbedders, embedderFor, embedWithin } from '../../plugins/core/embeddings/embedder';
import { embedderConfig } from '../../plugins/core/embeddings/embedder-config';
import { cosineSimilarity } from '../../plugins/core/embeddings/vectors';
import { TINY_DIMENSIONS, writeTinyOnnxModel } from '../support/tiny-onnx-model';

after(() => closeEmbedders());

const norm = (vector: Float32Array) => Math.sqrt(cosineSimilarity(vector, vector));

describe('onnx embedder (transformers.js, local files only)', () => {
  const modelPath = writeTinyOnnxModel();
  const embedder = embedderFor(embedderConfig.parse({ kind: 'onnx', model_path: modelPath }));

  it('embeds with the real MiniLM tokenizer: unit vectors, the same text alike, other texts not', async () => {
    const [first, again, other] = await embedder.embed(['How do I reset my password?', 'How do I reset my password?', 'Recommend a film for tonight']);
    assert.equal(first!.length, TINY_DIMENSIONS);
    assert.ok(Math.abs(norm(first!) - 1) < 1e-5);
    assert.deepEqual(again, first);
    assert.ok(cosineSimilarity(first!, other!) < 0.99);
    // The tokenizer lower-cases (uncased BERT vocabulary): case alone changes nothing.
    const [upper] = await embedder.embed(['HOW DO I RESET MY PASSWORD?']);
    assert.ok(cosineSimilarity(first!, upper!) > 0.9999);
  });

  it('answers concurrent callers in order while it batches them', async () => {
    const texts = Array.from({ length: 40 }, (_, index) => `question number ${index} about ${index % 3 === 0 ? 'billing' : 'shipping'}`);
    const together = await embedder.embed(texts);
    const separately = await Promise.all(texts.map(async (text) => (await embedder.embed([text]))[0]!));
    separately.forEach((vector, index) => assert.ok(cosineSimilarity(vector, together[index]!) > 0.9999, `text ${index}`));
  });

  it('names the missing files when the model is not there, and never downloads', async () => {
    const missing = embedderFor(embedderConfig.parse({ kind: 'onnx', model_path: '/nonexistent/models' }));
    await assert.rejects(missing.embed(['hello']), /ONNX sentence model is missing: \/nonexistent\/models\/all-MiniLM-L6-v2\/config\.json.*onnx\/model_quantized\.onnx not found/);
  });
});

describe('use-lite embedder (Universal Sentence Encoder lite, bundled weights)', () => {
  it('puts paraphrases closer than unrelated questions', async () => {
    const embedder = embedderFor(embedderConfig.parse({}));
    const [question, paraphrase, unrelated] = await embedder.embed(['How do I reset my password?', 'How can I reset my password?', 'What is the capital of France?']);
    assert.equal(question!.length, 512);
    assert.ok(cosineSimilarity(question!, paraphrase!) > 0.95);
    assert.ok(cosineSimilarity(question!, unrelated!) < 0.5);
  });

  it('gives up after timeout_ms rather than holding a request', async () => {
    const embedder = embedderFor(embedderConfig.parse({}));
    const texts = Array.from({ length: 200 }, (_, index) => `a long queue of texts, number ${index}`);
    await assert.rejects(embedWithin(embedder, texts, 5), /longer than 5 ms/);
  });
});

describe('remote embedder (an OpenAI-style /embeddings endpoint)', () => {
  const received: Array<{ url: string; authorization: string | undefined; body: { model: string; input: string[] } }> = [];
  let mode: 'ok' | 'short' | 'error' = 'ok';
  const server = http.createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      const parsed = JSON.parse(body) as { model: string; input: string[] };
      received.push({ url: request.url!, authorization: request.headers.authorization, body: parsed });
      if (mode === 'error') return void response.writeHead(500).end('{"error":{"message":"boom"}}');
      const inputs = mode === 'short' ? parsed.input.slice(1) : parsed.input;
      // Sent in reverse order: the client must place each vector by its index.
      const data = inputs.map((text, index) => ({ object: 'embedding', index, embedding: [text.length, 1, 0] })).reverse();
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'list', data, model: parsed.model, usage: { prompt_tokens: 3, total_tokens: 3 } }));
    });
  });
  const start = () => new Promise<string>((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`)));
  after(() => server.close());

  it('calls the provider like an llm-proxy target, key from the vault, vectors in input order', async () => {
    process.env.EMBEDDINGS_TEST_KEY = 'sk-embeddings-test';
    const baseUrl = await start();
    const embedder = embedderFor(embedderConfig.parse({ kind: 'remote', provider: 'openai-compatible', base_url: baseUrl, model: 'text-embedding-3-small', api_key: '{vault://env/embeddings-test-key}' }));
    assert.equal(embedder.name, `remote:openai-compatible:text-embedding-3-small@${baseUrl}`);
    const [short, long] = await embedder.embed(['ab', 'abcdefgh']);
    assert.equal(received.at(-1)!.url, '/v1/embeddings');
    assert.equal(received.at(-1)!.authorization, 'Bearer sk-embeddings-test');
    assert.deepEqual(received.at(-1)!.body, { model: 'text-embedding-3-small', input: ['ab', 'abcdefgh'] });
    // [2,1,0] and [8,1,0], normalised.
    assert.ok(Math.abs(short![0]! - 2 / Math.sqrt(5)) < 1e-6);
    assert.ok(Math.abs(long![0]! - 8 / Math.sqrt(65)) < 1e-6);
  });

  it('fails clearly on an error status or an answer missing vectors', async () => {
    const embedder = embedderFor(embedderConfig.parse({ kind: 'remote', provider: 'openai-compatible', base_url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, model: 'other-model' }));
    mode = 'error';
    await assert.rejects(embedder.embed(['a', 'b']), /answered 500/);
    mode = 'short';
    await assert.rejects(embedder.embed(['a', 'b']), /could not be read/);
    mode = 'ok';
  });

  it('refuses a literal key and a remote config without provider or model', () => {
    assert.equal(embedderConfig.safeParse({ kind: 'remote', provider: 'openai', model: 'm', api_key: 'sk-literal' }).success, false);
    assert.equal(embedderConfig.safeParse({ kind: 'remote', model: 'm' }).success, false);
    assert.equal(embedderConfig.safeParse({ kind: 'remote', provider: 'openai' }).success, false);
  });
});
