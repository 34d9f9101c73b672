// Writes a tiny ONNX "sentence model" beside the real MiniLM tokenizer, so CI exercises the transformers.js path.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { onnx } from 'onnx-proto';
import { sharedDataPath } from './shared-data';

export const MINILM_TOKENIZER = sharedDataPath('models', 'all-MiniLM-L6-v2-tokenizer');
const VOCABULARY = 30_522; // MiniLM's (BERT uncased) vocabulary
export const TINY_DIMENSIONS = 16;

/**
 * A model folder `<root>/<modelId>/` laid out as an operator supplies MiniLM: the real tokenizer and
 * config, and onnx/model_quantized.onnx. The model is one Gather: a random (seeded) embedding per token,
 * which the pipeline mean-pools and normalises like MiniLM's output. Returns the root (model_path).
 */
export function writeTinyOnnxModel(modelId = 'all-MiniLM-L6-v2'): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tiny-onnx-'));
  const folder = path.join(root, modelId);
  fs.mkdirSync(path.join(folder, 'onnx'), { recursive: true });
  for (const file of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json']) fs.copyFileSync(path.join(MINILM_TOKENIZER, file), path.join(folder, file));
  const table = new Float32Array(VOCABULARY * TINY_DIMENSIONS);
  let seed = 1;
  for (let index = 0; index < table.length; index += 1) {
    seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
    table[index] = seed / 2 ** 32 - 0.5;
  }
  const tokens = (name: string) => ({ name, type: { tensorType: { elemType: onnx.TensorProto.DataType.INT64, shape: { dim: [{ dimParam: 'batch' }, { dimParam: 'sequence' }] } } } });
  const model = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    producerName: 'kong-ai-policies tests',
    graph: {
      name: 'tiny-sentence-model',
      node: [{ opType: 'Gather', input: ['embeddings', 'input_ids'], output: ['last_hidden_state'], attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 0 }] }],
      initializer: [{ name: 'embeddings', dims: [VOCABULARY, TINY_DIMENSIONS], dataType: onnx.TensorProto.DataType.FLOAT, rawData: new Uint8Array(table.buffer) }],
      input: [tokens('input_ids'), tokens('attention_mask'), tokens('token_type_ids')],
      output: [
        {
          name: 'last_hidden_state',
          type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: [{ dimParam: 'batch' }, { dimParam: 'sequence' }, { dimValue: TINY_DIMENSIONS }] } } },
        },
      ],
    },
  });
  fs.writeFileSync(path.join(folder, 'onnx', 'model_quantized.onnx'), onnx.ModelProto.encode(model).finish());
  return root;
}
