// Embeddings from a provider's OpenAI-style /embeddings endpoint, built by the same code as llm-proxy's targets.
import { request } from 'undici';
import { z } from 'zod';
import { buildEmbeddingsRequest, DEFAULT_BASE_URLS } from '../providers/build-provider-request';
import { resolveVaultReference } from '../vault';
import type { Embedder } from './embedder';
import type { EmbedderConfig } from './embedder-config';
import { normalize } from './vectors';

/** Only what we use of the answer: each input's vector and its position. */
const embeddingsAnswer = z.object({
  data: z.array(z.object({ index: z.number().int().min(0), embedding: z.array(z.number()) })),
});

export class RemoteEmbedder implements Embedder {
  constructor(
    readonly name: string,
    private readonly config: EmbedderConfig,
  ) {}

  async embed(texts: string[]): Promise<Float32Array[]> {
    const { provider, model } = this.config;
    const baseUrl = this.config.base_url ?? DEFAULT_BASE_URLS[provider!];
    if (baseUrl === undefined) throw new Error(`embedder: ${provider} needs a base_url`);
    const call = buildEmbeddingsRequest(provider!, { model: model!, input: texts }, {
      model: model!,
      baseUrl,
      apiKey: this.config.api_key === undefined ? null : resolveVaultReference(this.config.api_key),
      stream: false,
      defaultMaxTokens: 0,
      azureApiVersion: this.config.azure_api_version,
    });
    const answer = await request(call.url, { method: 'POST', headers: call.headers, body: call.body, signal: AbortSignal.timeout(this.config.timeout_ms) });
    const text = await answer.body.text();
    if (answer.statusCode !== 200) throw new Error(`embeddings endpoint answered ${answer.statusCode}`);
    const parsed = embeddingsAnswer.safeParse(JSON.parse(text));
    if (!parsed.success || parsed.data.data.length !== texts.length) throw new Error('embeddings endpoint sent an answer that could not be read');
    const vectors: Array<Float32Array | undefined> = new Array(texts.length).fill(undefined);
    for (const item of parsed.data.data) if (item.index < texts.length) vectors[item.index] = normalize(Float32Array.from(item.embedding));
    // A loop over every position: array methods skip holes, and a repeated index would leave one.
    for (let position = 0; position < texts.length; position += 1) if (vectors[position] === undefined) throw new Error('embeddings endpoint skipped an input');
    return vectors as Float32Array[];
  }

  async close(): Promise<void> {}
}
