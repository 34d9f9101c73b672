// Which sentence embedder a plugin uses (semantic-cache, prompt-guard): one config shape, one shared model per process.
import { z } from 'zod';
import { isVaultReference } from '../vault';
import { EMBEDDING_PROVIDERS } from '../providers/build-provider-request';

export const embedderConfig = z
  .object({
    kind: z
      .enum(['use-lite', 'onnx', 'remote'])
      .default('use-lite')
      .describe(
        'The model that turns text into vectors: `use-lite` (Universal Sentence Encoder lite, bundled, works offline), `onnx` (a local ONNX sentence model such as all-MiniLM-L6-v2 through transformers.js; the operator supplies the files) or `remote` (an OpenAI-style `/embeddings` endpoint).',
      ),
    model_path: z
      .string()
      .min(1)
      .default('/usr/local/share/kong-ai/models')
      .describe('`onnx`: the folder that holds `<model_id>/` (config.json, tokenizer.json, tokenizer_config.json and onnx/model_quantized.onnx). Nothing is ever downloaded.'),
    model_id: z
      .string()
      .regex(/^[A-Za-z0-9_.-]+$/, 'a folder name: letters, digits, `_`, `.` and `-`')
      .default('all-MiniLM-L6-v2')
      .describe('`onnx`: the model folder under `model_path`.'),
    provider: z.enum(EMBEDDING_PROVIDERS).optional().describe('`remote`: the provider that serves `/embeddings`, as in llm-proxy targets.'),
    base_url: z.url().optional().describe("`remote`: the provider's API base URL, e.g. `https://api.openai.com/v1` (the provider's default when omitted)."),
    model: z.string().min(1).optional().describe('`remote`: the embeddings model (Azure: the deployment).'),
    api_key: z
      .string()
      .refine(isVaultReference, 'must be a Kong vault reference such as {vault://env/OPENAI_API_KEY}, never the key itself')
      .optional()
      .describe('`remote`: the API key, as a Kong env vault reference.'),
    azure_api_version: z.string().optional().describe('`remote` with `azure`: the api-version query parameter.'),
    timeout_ms: z.number().int().min(10).max(60_000).default(2000).describe('The longest one embedding may take (a remote call, or a local model busy with others); past it the plugin treats the embedder as failed.'),
  })
  .superRefine((value, context) => {
    if (value.kind !== 'remote') return;
    if (value.provider === undefined) context.addIssue({ code: 'custom', path: ['provider'], message: 'is required when kind is remote' });
    if (value.model === undefined) context.addIssue({ code: 'custom', path: ['model'], message: 'is required when kind is remote' });
  });
export type EmbedderConfig = z.output<typeof embedderConfig>;
