// Sentence embedders behind one interface, loaded once per process and shared by every plugin that embeds.
import type { EmbedderConfig } from './embedder-config';
import { LocalEmbedder } from './local-embedder';
import { RemoteEmbedder } from './remote-embedder';

export interface Embedder {
  /** Names the vector space (model): vectors of different names are never compared. */
  readonly name: string;
  /** One unit vector per text, in order; `timeoutMs` is how long the caller will wait (a local model drops texts past it). */
  embed(texts: string[], timeoutMs?: number): Promise<Float32Array[]>;
  /** Set when the embedder can no longer serve (a local model failed to load, crashed or hung). */
  readonly failedAt?: number | null;
  close(): Promise<void>;
}

const embedders = new Map<string, Embedder>();

/** A failed embedder is replaced after this long: a crash or a model put in place later recovers without a restart. */
const RETRY_FAILED_AFTER_MS = 30_000;

/** The process's embedder for this config: semantic-cache and prompt-guard with the same model share one. */
export function embedderFor(config: EmbedderConfig): Embedder {
  const key = JSON.stringify([config.kind, config.model_path, config.model_id, config.provider, config.base_url, config.model, config.api_key, config.azure_api_version]);
  let embedder = embedders.get(key);
  if (embedder?.failedAt != null && Date.now() - embedder.failedAt > RETRY_FAILED_AFTER_MS) {
    void embedder.close();
    embedder = undefined;
  }
  if (!embedder) {
    const name = embedderName(config);
    embedder =
      config.kind === 'remote'
        ? new RemoteEmbedder(name, config)
        : new LocalEmbedder(name, { kind: config.kind, modelPath: config.model_path, modelId: config.model_id });
    embedders.set(key, embedder);
  }
  return embedder;
}

/** Embeds within `timeoutMs`, or rejects: a busy or slow model never holds a request for long. */
export async function embedWithin(embedder: Embedder, texts: string[], timeoutMs: number): Promise<Float32Array[]> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`embedding took longer than ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([embedder.embed(texts, timeoutMs), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export async function closeEmbedders(): Promise<void> {
  const open = [...embedders.values()];
  embedders.clear();
  await Promise.all(open.map((embedder) => embedder.close()));
}

/** The vector space: the same on every node whatever its file paths, so nodes share cache entries. */
function embedderName(config: EmbedderConfig): string {
  switch (config.kind) {
    case 'use-lite':
      return 'use-lite';
    case 'onnx':
      return `onnx:${config.model_id}`;
    case 'remote':
      // The endpoint is part of it: two servers may name different models alike.
      return `remote:${config.provider}:${config.model}@${config.base_url ?? 'default'}`;
  }
}
