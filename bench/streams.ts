// `make bench`, streaming part: time-to-first-token overhead, and 1,000 concurrent streams held through the chain.
import { Agent, request } from 'undici';
import { DEMO_API_KEY, startGateway, writeKongYml, type Gateway } from '../test/support/gateway';
import { startRedis } from '../test/support/redis-server';
import { DIRECT_KONG_YML, distribution, percentile, round, saveReport, uniqueChatBodies } from './load';

const TTFT_REQUESTS = Number(process.env.BENCH_TTFT_REQUESTS ?? 300);
const CONCURRENT_STREAMS = Number(process.env.BENCH_CONCURRENT_STREAMS ?? 1000);
/** About 2 s per recorded stream: all the concurrent ones overlap. */
const MOCK_EVENT_INTERVAL_MS = 50;
/** A new question for every stream (warm-ups included): through the whole chain each one misses the semantic cache. */
const streamBody = (() => {
  const bodyOf = uniqueChatBodies({ stream: true });
  let index = 0;
  return () => bodyOf(index++);
})();

interface Streamed {
  firstTokenMs: number;
  complete: boolean;
  /** semantic-cache's verdict (Miss, or Bypass when its lookup gave up), or null without the plugin. */
  cacheStatus: string | null;
  /** Why an incomplete stream failed: `status 502`, `no [DONE]`, or the client's error. */
  failure?: string;
}

/** How many streams failed each way. */
function failureCounts(results: Streamed[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { failure } of results) if (failure !== undefined) counts[failure] = (counts[failure] ?? 0) + 1;
  return counts;
}

/** How many streams got each x-cache-status: shows whether the chain's path was a cache miss or a bypass. */
function cacheStatusCounts(results: Streamed[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { cacheStatus } of results) if (cacheStatus !== null) counts[cacheStatus] = (counts[cacheStatus] ?? 0) + 1;
  return counts;
}

/** Sends one streamed request; resolves with the time to the first SSE data line and whether [DONE] arrived. */
async function stream(url: string, agent: Agent): Promise<Streamed> {
  const body = streamBody();
  const started = process.hrtime.bigint();
  const response = await request(url, { method: 'POST', body, headers: { 'content-type': 'application/json', apikey: DEMO_API_KEY }, dispatcher: agent });
  let firstTokenMs = -1;
  let text = '';
  for await (const chunk of response.body) {
    if (firstTokenMs < 0) firstTokenMs = Number(process.hrtime.bigint() - started) / 1e6;
    text += chunk.toString();
  }
  const cacheStatus = response.headers['x-cache-status'];
  const complete = response.statusCode === 200 && text.includes('data: [DONE]');
  const failure = complete ? undefined : response.statusCode !== 200 ? `status ${response.statusCode}` : 'no [DONE]';
  return { firstTokenMs, complete, cacheStatus: typeof cacheStatus === 'string' ? cacheStatus : null, ...(failure ? { failure } : {}) };
}

async function timeToFirstToken(gateway: Gateway) {
  const agent = new Agent({ connections: 64 });
  const url = `${gateway.kong.url}/v1/chat/completions`;
  for (let index = 0; index < 50; index += 1) await stream(url, agent); // warm up
  const samples: number[] = [];
  const completed: Streamed[] = [];
  let errors = 0;
  let next = 0;
  const worker = async () => {
    while (next++ < TTFT_REQUESTS) {
      const result = await stream(url, agent).catch(() => null);
      if (result?.complete) {
        samples.push(result.firstTokenMs);
        completed.push(result);
      } else errors += 1;
    }
  };
  // One at a time: the overhead of the chain itself, not of CPU shared with other streams.
  await worker();
  await agent.close();
  const cacheStatus = cacheStatusCounts(completed);
  return {
    streams: TTFT_REQUESTS,
    p50_ms: percentile(samples, 0.5),
    p99_ms: percentile(samples, 0.99),
    errors,
    ...(Object.keys(cacheStatus).length > 0 ? { x_cache_status: cacheStatus } : {}),
    distribution_ms: distribution(samples),
  };
}

async function pluginServerMemory(gateway: Gateway): Promise<number> {
  const text = await (await fetch(`${gateway.connectorUrl}/metrics`)).text();
  const line = text.split('\n').find((candidate) => candidate.startsWith('kong_ai_process_resident_memory_bytes '));
  return Math.round(Number(line?.split(' ')[1] ?? 0) / 2 ** 20);
}

async function concurrentStreams(gateway: Gateway) {
  gateway.mock.setFaults({ chunkDelayMs: MOCK_EVENT_INTERVAL_MS });
  const agent = new Agent({ connections: CONCURRENT_STREAMS + 10 });
  const url = `${gateway.kong.url}/v1/chat/completions`;
  const before = await pluginServerMemory(gateway);
  let peak = before;
  const sampler = setInterval(() => void pluginServerMemory(gateway).then((value) => (peak = Math.max(peak, value)), () => undefined), 200);
  const started = Date.now();
  const results = await Promise.all(Array.from({ length: CONCURRENT_STREAMS }, () => stream(url, agent).catch((error: unknown): Streamed => ({ firstTokenMs: -1, complete: false, cacheStatus: null, failure: (error as Error).message }))));
  const wallMs = Date.now() - started;
  clearInterval(sampler);
  gateway.mock.setFaults({});
  await agent.close();
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const after = await pluginServerMemory(gateway);
  const status = (await (await fetch(`${gateway.connectorUrl}/__ai/status`)).json()) as { contexts: number };
  return {
    streams: CONCURRENT_STREAMS,
    mock_event_interval_ms: MOCK_EVENT_INTERVAL_MS,
    completed: results.filter((result) => result.complete).length,
    errors: results.filter((result) => !result.complete).length,
    wall_ms: wallMs,
    ttft_p50_ms: percentile(results.filter((result) => result.complete).map((result) => result.firstTokenMs), 0.5),
    ttft_p99_ms: percentile(results.filter((result) => result.complete).map((result) => result.firstTokenMs), 0.99),
    plugin_server_rss_mib_before: before,
    plugin_server_rss_mib_peak: peak,
    plugin_server_rss_mib_after: after,
    contexts_left: status.contexts,
    x_cache_status: cacheStatusCounts(results),
    failures: failureCounts(results),
  };
}

async function main(): Promise<void> {
  const direct = await startGateway({ declarativeConfig: writeKongYml(DIRECT_KONG_YML) });
  const directTtft = await timeToFirstToken(direct).finally(() => direct.stop());
  process.stdout.write(`streaming TTFT, direct:           ${JSON.stringify({ ...directTtft, distribution_ms: undefined })}\n`);
  // The repo kong.yml's semantic-cache, with a real Redis in place of the compose file's `redis` host.
  const redis = await startRedis();
  // The demo budget (1M tokens a minute) would refuse most of 1,000 simultaneous streams (each reserves its
  // max_tokens): raised, so this measures streaming, not the budget.
  const chain = await startGateway({
    pluginServerEnvironment: { AI_LOG_LEVEL: 'warn' },
    replace: { 'host: redis, port: 6379': `host: 127.0.0.1, port: ${redis.port}`, 'limit: 1000000, window: minute': 'limit: 1000000000, window: minute' },
  });
  try {
    const chainTtft = await timeToFirstToken(chain);
    process.stdout.write(`streaming TTFT, all five plugins: ${JSON.stringify({ ...chainTtft, distribution_ms: undefined })}\n`);
    const held = await concurrentStreams(chain);
    process.stdout.write(`${CONCURRENT_STREAMS} concurrent streams: ${JSON.stringify(held)}\n`);
    const report = {
      benchmark: 'streaming: time-to-first-token overhead and concurrent streams through Kong (stand-in) and all five plugins',
      rerun: 'make bench, or alone: make build && node dist/bench/streams.js (BENCH_TTFT_REQUESTS, BENCH_CONCURRENT_STREAMS change the load)',
      prompts: 'a new hh-rlhf question for every stream: through the whole chain each misses the semantic cache (Redis on loopback)',
      ttft: {
        direct: directTtft,
        all_five_plugins: chainTtft,
        overhead_p50_ms: round(chainTtft.p50_ms - directTtft.p50_ms),
        overhead_p99_ms: round(chainTtft.p99_ms - directTtft.p99_ms),
      },
      concurrent_streams: held,
    };
    saveReport('streams', report);
  } finally {
    await chain.stop();
    await redis.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack}\n`);
  process.exit(1);
});
