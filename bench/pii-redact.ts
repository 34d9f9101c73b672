// `make bench`: pii-redact's cost: added latency on a 1 KB prompt, scan throughput on 100 KB, restore cost per stream chunk.
import { LLM_PROXY_KONG_YML, corpusDialogues, msPerCall, openLoop, round, saveReport } from './load';
import { DEMO_API_KEY, DEMO_CONSUMER_YML, startGateway, writeKongYml } from '../test/support/gateway';
import { redactPrompt, type RedactOptions } from '../plugins/pii-redact/redact-prompt';
import { restoringHooks } from '../plugins/pii-redact/restore-response';
import { PII_ENTITIES, type PiiEntity } from '../plugins/core/pii/pii-entities';

const RATE_PER_SECOND = Number(process.env.BENCH_RATE ?? 200);
const DURATION_SECONDS = Number(process.env.BENCH_SECONDS ?? 10);

const PII_SENTENCE = ' Please email Maria Garcia at maria.garcia@example.com or call (415) 555-2671 about card 4111 1111 1111 1111.';

/** Natural prompt text (hh-rlhf) with a PII sentence every ~500 bytes, cut to `bytes`. */
function promptOf(bytes: number): string {
  let text = '';
  for (const dialogue of corpusDialogues()) {
    text += dialogue.slice(0, 400) + PII_SENTENCE;
    if (text.length >= bytes) break;
  }
  return text.slice(0, bytes);
}

const options = (entities: readonly PiiEntity[]): RedactOptions => ({
  entities: new Set(entities),
  custom: [],
  allow: new Set(),
  defaultCountry: 'US',
  actionOf: () => 'mask',
  roles: new Set(['system', 'user', 'assistant', 'tool']),
  history: 'all',
});

function scanThroughput() {
  const text = promptOf(100 * 1024);
  const megabytes = Buffer.byteLength(text) / 2 ** 20;
  const all = msPerCall(() => redactPrompt({ messages: [{ role: 'user', content: text }] }, options(PII_ENTITIES)), 1500);
  const structured = msPerCall(() => redactPrompt({ messages: [{ role: 'user', content: text }] }, options(PII_ENTITIES.filter((entity) => entity !== 'person' && entity !== 'location'))), 1500);
  return {
    prompt_kb: 100,
    all_entities_ms: round(all),
    all_entities_mb_per_s: round(megabytes / (all / 1000)),
    without_names_and_places_ms: round(structured),
    without_names_and_places_mb_per_s: round(megabytes / (structured / 1000)),
  };
}

function restorePerChunk() {
  const redaction = redactPrompt({ messages: [{ role: 'user', content: PII_SENTENCE }] }, options(PII_ENTITIES));
  const chunk = (content: string) => ({ event: null, data: JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o-mini', choices: [{ index: 0, delta: { content }, finish_reason: null }] }) });
  const plain = chunk(' the weather is');
  const withPlaceholder = chunk(' Dear <PERSON_1>,');
  const hooks = restoringHooks(redaction.map);
  return {
    plain_chunk_us: round(msPerCall(() => hooks.onChunk!(plain), 1000) * 1000),
    chunk_with_placeholder_us: round(msPerCall(() => hooks.onChunk!(withPlaceholder), 1000) * 1000),
  };
}

async function addedLatency() {
  const body = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: promptOf(1024) }] });
  const withKeyAuth = LLM_PROXY_KONG_YML.replace('        plugins:\n', '        plugins:\n          - name: key-auth\n').concat(DEMO_CONSUMER_YML);
  const withPii = withKeyAuth.replace('          - name: key-auth\n', '          - name: key-auth\n          - name: pii-redact\n');
  const run = async (yml: string) => {
    const gateway = await startGateway({ declarativeConfig: writeKongYml(yml), pluginServerEnvironment: { AI_LOG_LEVEL: 'warn' } });
    try {
      return await openLoop(`${gateway.kong.url}/v1/chat/completions`, body, { apikey: DEMO_API_KEY }, RATE_PER_SECOND, DURATION_SECONDS);
    } finally {
      await gateway.stop();
    }
  };
  const baseline = await run(withKeyAuth);
  const pii = await run(withPii);
  return { 'llm-proxy': baseline, 'pii-redact + llm-proxy': pii, added_p50_ms: round(pii.p50_ms - baseline.p50_ms), added_p99_ms: round(pii.p99_ms - baseline.p99_ms) };
}

async function main(): Promise<void> {
  const throughput = scanThroughput();
  process.stdout.write(`pii scan, 100 KB prompt: ${JSON.stringify(throughput)}\n`);
  const restore = restorePerChunk();
  process.stdout.write(`stream restore per chunk: ${JSON.stringify(restore)}\n`);
  const latency = await addedLatency();
  process.stdout.write(`1 KB prompt with PII, ${RATE_PER_SECOND} req/s: ${JSON.stringify(latency)}\n`);
  const report = {
    benchmark: 'pii-redact: added latency (1 KB prompt with PII), scan throughput (100 KB), restore cost per streamed chunk',
    rate_per_second: RATE_PER_SECOND,
    duration_seconds: DURATION_SECONDS,
    rerun: 'make bench (BENCH_RATE, BENCH_SECONDS to change the load)',
    throughput,
    restore,
    latency,
  };
  saveReport('pii-redact', report);
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack}\n`);
  process.exitCode = 1;
});
