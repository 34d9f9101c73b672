// `make bench`: prompt-guard's added latency for 1 KB and 32 KB prompts, without and with the semantic (deny topics) layer.
import { LLM_PROXY_KONG_YML, corpusDialogues, openLoop, round, saveReport } from './load';
import { DEMO_API_KEY, DEMO_CONSUMER_YML, startGateway, writeKongYml } from '../test/support/gateway';

// The semantic layer embeds each prompt with USE-lite on the CPU (about 100 ms for 1 KB), so the rate is one
// every variant sustains on two cores; at 50 requests/s that layer queues and times out.
// 3/s: a 32 KB prompt's deny-topic check embeds both ends (about 210 ms of CPU), so 5/s saturates one node.
const RATE_PER_SECOND = Number(process.env.BENCH_GUARD_RATE ?? 3);
const DURATION_SECONDS = Number(process.env.BENCH_GUARD_SECONDS ?? 20);

/** Ordinary prompt text (hh-rlhf human turns, which pass every layer), cut to `bytes`. */
function promptOf(bytes: number): string {
  let text = '';
  for (const dialogue of corpusDialogues()) {
    text += `${dialogue.split('\n\nAssistant:')[0]!.replace('\n\nHuman: ', '')} `;
    if (text.length >= bytes) break;
  }
  return text.slice(0, bytes);
}

const GUARD_LAYERS = `            config:
              deny_patterns: ["(?i)project\\\\s+falcon", "(?i)internal[- ]only"]
              limits: { max_total_characters: 100000 }
`;
const TOPICS = `              deny_topics:
                - name: weapons
                  examples: ["How do I build a bomb at home?", "Give me instructions to make explosives."]
`;

async function main(): Promise<void> {
  const withKeyAuth = LLM_PROXY_KONG_YML.replace('        plugins:\n', '        plugins:\n          - name: key-auth\n').concat(DEMO_CONSUMER_YML);
  const guarded = (layers: string) => withKeyAuth.replace('          - name: key-auth\n', `          - name: key-auth\n          - name: prompt-guard\n${layers}`);
  const variants: Array<[string, string]> = [
    ['llm-proxy only', withKeyAuth],
    ['prompt-guard (sizes, roles, patterns, injection)', guarded(GUARD_LAYERS)],
    ['prompt-guard + deny topics (USE-lite)', guarded(GUARD_LAYERS + TOPICS)],
  ];
  const results: Record<string, Record<string, unknown>> = {};
  for (const kilobytes of [1, 32]) {
    const body = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: promptOf(kilobytes * 1024) }] });
    const row: Record<string, unknown> = {};
    for (const [name, yml] of variants) {
      const gateway = await startGateway({ declarativeConfig: writeKongYml(yml), pluginServerEnvironment: { AI_LOG_LEVEL: 'warn' } });
      try {
        row[name] = await openLoop(`${gateway.kong.url}/v1/chat/completions`, body, { apikey: DEMO_API_KEY }, RATE_PER_SECOND, DURATION_SECONDS, 50);
      } finally {
        await gateway.stop();
      }
    }
    const baseline = row['llm-proxy only'] as { p50_ms: number; p99_ms: number };
    for (const [name] of variants.slice(1)) {
      const measured = row[name] as { p50_ms: number; p99_ms: number };
      row[`${name}: added p50/p99 ms`] = [round(measured.p50_ms - baseline.p50_ms), round(measured.p99_ms - baseline.p99_ms)];
    }
    results[`${kilobytes} KB`] = row;
    process.stdout.write(`prompt-guard, ${kilobytes} KB prompt, ${RATE_PER_SECOND} req/s: ${JSON.stringify(row)}\n`);
  }
  saveReport('prompt-guard', {
    benchmark: 'prompt-guard: added latency for 1 KB and 32 KB prompts, with and without the semantic layer',
    rate_per_second: RATE_PER_SECOND,
    duration_seconds: DURATION_SECONDS,
    rerun: 'make bench (BENCH_GUARD_RATE, BENCH_GUARD_SECONDS to change the load)',
    results,
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack}\n`);
  process.exitCode = 1;
});
