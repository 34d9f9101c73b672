// `make bench`: added latency of the AI plugin chain over plain proxying, at a fixed request rate.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openLoop, round, type LoadResult } from './load';
import { DEMO_API_KEY, REPOSITORY_ROOT, startGateway, writeKongYml } from '../test/support/gateway';

const RATE_PER_SECOND = Number(process.env.BENCH_RATE ?? 200);
const DURATION_SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP_REQUESTS = 200;
const BODY = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Benchmark prompt: say hello.' }] });

/** kong.yml variants, in the repo's own format; `http://mock-llm:9090` is replaced by the mock's address. */
const SCENARIOS: Record<string, string | null> = {
  // Kong (stand-in) proxying straight to the provider: the baseline.
  direct: `_format_version: "3.0"
services:
  - name: provider
    url: http://mock-llm:9090/v1
    routes:
      - name: chat
        paths: [/v1]
        response_buffering: false
`,
  // Kong with llm-proxy only: the connector in the path, no policy plugin.
  'llm-proxy': `_format_version: "3.0"
services:
  - name: ai-connector
    url: http://127.0.0.1:8787
    routes:
      - name: chat
        paths: [/v1/chat/completions]
        response_buffering: false
        plugins:
          - name: llm-proxy
            config:
              targets:
                - provider: openai-compatible
                  model: gpt-4o-mini
                  base_url: http://mock-llm:9090/v1
                  api_key: "{vault://env/mock-llm-api-key}"
`,
  // The repo's kong.yml: key-auth and all five plugins (four still pass requests through).
  'all-five-plugins': null,
};

interface ScenarioResult extends LoadResult {
  rpc_calls_per_request: number;
}

async function runScenario(yml: string | null): Promise<ScenarioResult> {
  const declarativeConfig = yml === null ? undefined : writeKongYml(yml);
  const gateway = await startGateway({ declarativeConfig, pluginServerEnvironment: { AI_LOG_LEVEL: 'warn' } });
  try {
    const url = `${gateway.kong.url}/v1/chat/completions`;
    const rpcBefore = gateway.kong.rpcCalls;
    const result = await openLoop(url, BODY, { apikey: DEMO_API_KEY }, RATE_PER_SECOND, DURATION_SECONDS, WARMUP_REQUESTS);
    // The warm-up's calls count too: per request over all that were sent.
    return { ...result, rpc_calls_per_request: round((gateway.kong.rpcCalls - rpcBefore) / (result.requests + WARMUP_REQUESTS)) };
  } finally {
    await gateway.stop();
  }
}

async function main(): Promise<void> {
  const results: Record<string, ScenarioResult> = {};
  for (const [name, yml] of Object.entries(SCENARIOS)) {
    results[name] = await runScenario(yml);
    process.stdout.write(`${name.padEnd(18)} ${JSON.stringify(results[name])}\n`);
  }
  const direct = results.direct!;
  const added = Object.fromEntries(
    Object.entries(results)
      .filter(([name]) => name !== 'direct')
      .map(([name, result]) => [name, { added_p50_ms: round(result.p50_ms - direct.p50_ms), added_p99_ms: round(result.p99_ms - direct.p99_ms) }]),
  );
  const report = {
    benchmark: 'foundation: added latency over direct proxying (non-streaming chat completion)',
    machine: { cpus: os.cpus().length, cpu_model: os.cpus()[0]?.model, memory_gib: Math.round(os.totalmem() / 2 ** 30), node: process.version },
    rate_per_second: RATE_PER_SECOND,
    duration_seconds: DURATION_SECONDS,
    rerun: 'make bench (BENCH_RATE, BENCH_SECONDS to change the load)',
    results,
    added,
    measured_at: new Date().toISOString(),
  };
  process.stdout.write(`added latency over direct: ${JSON.stringify(added)}\n`);
  const directory = path.join(REPOSITORY_ROOT, 'bench/results');
  fs.mkdirSync(directory, { recursive: true });
  fs.writeFileSync(path.join(directory, 'foundation.json'), `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`saved bench/results/foundation.json\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack}\n`);
  process.exit(1);
});

