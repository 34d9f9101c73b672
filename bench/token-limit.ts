// `make bench`: token-limit's cost: added latency (local and Redis policies), Redis round trips, tokenizer speed.
import { countTokens, encode } from 'gpt-tokenizer/cjs/encoding/o200k_base';
import { Tiktoken } from 'js-tiktoken/lite';
import { CHAT_BODY, LLM_PROXY_KONG_YML, corpusDialogues, msPerCall, openLoop, round, saveReport, type LoadResult } from './load';
import { DEMO_API_KEY, DEMO_CONSUMER_YML, startGateway, writeKongYml } from '../test/support/gateway';
import { startRedis, type RedisServer } from '../test/support/redis-server';

const RATE_PER_SECOND = Number(process.env.BENCH_RATE ?? 200);
const DURATION_SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP_REQUESTS = 200;

/** llm-proxy behind key-auth and token-limit with two tiers that never refuse during the run. */
function tokenLimitYml(policy: string): string {
  return LLM_PROXY_KONG_YML.replace(
    '        plugins:\n',
    `        plugins:
          - name: key-auth
          - name: token-limit
            config:
              namespace: bench
              limits:
                - { metric: total_tokens, limit: 100000000, window: minute }
                - { metric: cost_usd, limit: 100000, window: day }
${policy}
`,
  ).concat(DEMO_CONSUMER_YML);
}

const BASELINE_YML = LLM_PROXY_KONG_YML.replace('        plugins:\n', '        plugins:\n          - name: key-auth\n').concat(DEMO_CONSUMER_YML);

interface Scenario extends LoadResult {
  /** Script calls (EVALSHA/EVAL): each is one network round trip. */
  redis_round_trips_per_request?: number;
  /** Every command Redis ran, the ones inside the scripts included. */
  redis_commands_per_request?: number;
}

async function runScenario(yml: string, redis: RedisServer | null): Promise<Scenario> {
  const gateway = await startGateway({ declarativeConfig: writeKongYml(yml), pluginServerEnvironment: { AI_LOG_LEVEL: 'warn' } });
  try {
    const before = redis ? await commandCounts(redis) : null;
    const result = await openLoop(`${gateway.kong.url}/v1/chat/completions`, CHAT_BODY, { apikey: DEMO_API_KEY }, RATE_PER_SECOND, DURATION_SECONDS, WARMUP_REQUESTS);
    if (!redis || !before) return result;
    const after = await commandCounts(redis);
    const sent = result.requests + WARMUP_REQUESTS;
    return { ...result, redis_round_trips_per_request: round((after.scripts - before.scripts) / sent), redis_commands_per_request: round((after.all - before.all) / sent) };
  } finally {
    await gateway.stop();
  }
}

/** Commands Redis executed (INFO commandstats), this benchmark's own INFO excluded; scripts are the round trips. */
async function commandCounts(redis: RedisServer): Promise<{ all: number; scripts: number }> {
  const info = await redis.client.info('commandstats');
  let all = 0;
  let scripts = 0;
  for (const match of info.matchAll(/^cmdstat_(\w+):calls=(\d+)/gm)) {
    if (match[1] === 'info') continue;
    all += Number(match[2]);
    if (match[1] === 'evalsha' || match[1] === 'eval') scripts += Number(match[2]);
  }
  return { all, scripts };
}

/** Prompt text from the hh-rlhf corpus, cut to the byte size measured. */
function corpusText(bytes: number): string {
  let text = '';
  for (const dialogue of corpusDialogues()) {
    text += dialogue;
    if (Buffer.byteLength(text) >= bytes) break;
  }
  return Buffer.from(text).subarray(0, bytes).toString('utf8').replace(/\uFFFD$/, '');
}

function tokenizerBenchmark() {
  // The ranks subpath is exports-only, which this project's module resolution (node10) does not read.
  const ranks = require('js-tiktoken/ranks/o200k_base') as ConstructorParameters<typeof Tiktoken>[0];
  const tiktoken = new Tiktoken(ranks);
  const options = { disallowedSpecial: new Set<string>() };
  const results: Record<string, unknown> = {};
  for (const bytes of [1024, 100 * 1024]) {
    const text = corpusText(bytes);
    const ours = encode(text, options);
    const theirs = tiktoken.encode(text, [], []);
    results[`${bytes / 1024}KB`] = {
      tokens: ours.length,
      identical_ids: ours.length === theirs.length && ours.every((id, index) => id === theirs[index]),
      gpt_tokenizer_count_ms: round(msPerCall(() => countTokens(text, options))),
      js_tiktoken_encode_ms: round(msPerCall(() => tiktoken.encode(text, [], []))),
    };
  }
  return results;
}

async function main(): Promise<void> {
  const tokenizer = tokenizerBenchmark();
  process.stdout.write(`tokenizer (o200k): ${JSON.stringify(tokenizer)}\n`);
  const redis = await startRedis();
  try {
    const baseline = await runScenario(BASELINE_YML, null);
    process.stdout.write(`llm-proxy            ${JSON.stringify(baseline)}\n`);
    const local = await runScenario(tokenLimitYml('              policy: local'), null);
    process.stdout.write(`+ token-limit local  ${JSON.stringify(local)}\n`);
    const shared = await runScenario(tokenLimitYml(`              policy: redis\n              redis: { host: 127.0.0.1, port: ${redis.port} }`), redis);
    process.stdout.write(`+ token-limit redis  ${JSON.stringify(shared)}\n`);
    const added = (result: LoadResult) => ({ added_p50_ms: round(result.p50_ms - baseline.p50_ms), added_p99_ms: round(result.p99_ms - baseline.p99_ms) });
    const report = {
      benchmark: 'token-limit: added latency over llm-proxy alone (key-auth on both), Redis commands per request, o200k tokenizer speed',
      rate_per_second: RATE_PER_SECOND,
      duration_seconds: DURATION_SECONDS,
      rerun: 'make bench (BENCH_RATE, BENCH_SECONDS to change the load)',
      tokenizer,
      results: { 'llm-proxy': baseline, 'token-limit-local': local, 'token-limit-redis': shared },
      added: { 'token-limit-local': added(local), 'token-limit-redis': added(shared) },
    };
    process.stdout.write(`added latency over llm-proxy alone: ${JSON.stringify(report.added)}\n`);
    saveReport('token-limit', report);
  } finally {
    await redis.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack}\n`);
  process.exitCode = 1;
});
