// `make bench`: added latency of the AI plugin chain over plain proxying, at a fixed request rate.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Agent, request } from 'undici';
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

interface ScenarioResult {
  requests: number;
  errors: number;
  p50_ms: number;
  p90_ms: number;
  p99_ms: number;
  rpc_calls_per_request: number;
}

async function runScenario(name: string, yml: string | null): Promise<ScenarioResult> {
  const declarativeConfig = yml === null ? undefined : writeKongYml(yml);
  const gateway = await startGateway({ declarativeConfig, pluginServerEnvironment: { AI_LOG_LEVEL: 'warn' } });
  try {
    const agent = new Agent({ connections: 256, keepAliveTimeout: 30_000 });
    const url = `${gateway.kong.url}/v1/chat/completions`;
    const send = async (): Promise<number> => {
      const started = process.hrtime.bigint();
      const response = await request(url, { method: 'POST', body: BODY, headers: { 'content-type': 'application/json', apikey: DEMO_API_KEY }, dispatcher: agent });
      await response.body.text();
      if (response.statusCode !== 200) throw new Error(`${name}: status ${response.statusCode}`);
      return Number(process.hrtime.bigint() - started) / 1e6;
    };
    for (let index = 0; index < WARMUP_REQUESTS; index += 1) await send();
    const rpcBefore = gateway.kong.rpcCalls;
    const total = RATE_PER_SECOND * DURATION_SECONDS;
    const latencies: number[] = [];
    let errors = 0;
    const start = performance.now();
    const pending: Array<Promise<void>> = [];
    // Open loop: requests leave on schedule whatever the previous ones are doing.
    for (let index = 0; index < total; index += 1) {
      const due = start + (index * 1000) / RATE_PER_SECOND;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      pending.push(send().then((latency) => void latencies.push(latency), () => void (errors += 1)));
    }
    await Promise.all(pending);
    await agent.close();
    return {
      requests: total,
      errors,
      p50_ms: percentile(latencies, 0.5),
      p90_ms: percentile(latencies, 0.9),
      p99_ms: percentile(latencies, 0.99),
      rpc_calls_per_request: (gateway.kong.rpcCalls - rpcBefore) / total,
    };
  } finally {
    await gateway.stop();
  }
}

function percentile(values: number[], fraction: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const value = sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))] ?? NaN;
  return Math.round(value * 100) / 100;
}

async function main(): Promise<void> {
  const results: Record<string, ScenarioResult> = {};
  for (const [name, yml] of Object.entries(SCENARIOS)) {
    results[name] = await runScenario(name, yml);
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

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack}\n`);
  process.exit(1);
});

