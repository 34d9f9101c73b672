// `make bench`: added latency of the AI plugin chain over plain proxying, at a fixed request rate.
import { CHAT_BODY, DIRECT_KONG_YML, LLM_PROXY_KONG_YML, openLoop, round, saveReport, type LoadResult } from './load';
import { DEMO_API_KEY, startGateway, writeKongYml } from '../test/support/gateway';

const RATE_PER_SECOND = Number(process.env.BENCH_RATE ?? 200);
const DURATION_SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP_REQUESTS = 200;
/** kong.yml variants; null is the repo's kong.yml: key-auth and all five plugins (three still pass requests through). */
const SCENARIOS: Record<string, string | null> = { direct: DIRECT_KONG_YML, 'llm-proxy': LLM_PROXY_KONG_YML, 'all-five-plugins': null };

interface ScenarioResult extends LoadResult {
  rpc_calls_per_request: number;
}

async function runScenario(yml: string | null): Promise<ScenarioResult> {
  const declarativeConfig = yml === null ? undefined : writeKongYml(yml);
  const gateway = await startGateway({ declarativeConfig, pluginServerEnvironment: { AI_LOG_LEVEL: 'warn' } });
  try {
    const url = `${gateway.kong.url}/v1/chat/completions`;
    const rpcBefore = gateway.kong.rpcCalls;
    const result = await openLoop(url, CHAT_BODY, { apikey: DEMO_API_KEY }, RATE_PER_SECOND, DURATION_SECONDS, WARMUP_REQUESTS);
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
    rate_per_second: RATE_PER_SECOND,
    duration_seconds: DURATION_SECONDS,
    rerun: 'make bench (BENCH_RATE, BENCH_SECONDS to change the load)',
    results,
    added,
  };
  process.stdout.write(`added latency over direct: ${JSON.stringify(added)}\n`);
  saveReport('foundation', report);
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack}\n`);
  process.exit(1);
});

