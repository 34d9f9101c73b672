// `make bench`, streaming part: time-to-first-token overhead, and 1,000 concurrent streams held through the chain.
import { Agent, request } from 'undici';
import { DEMO_API_KEY, startGateway, writeKongYml, type Gateway } from '../test/support/gateway';
import { DIRECT_KONG_YML, percentile, saveReport } from './load';

const TTFT_REQUESTS = Number(process.env.BENCH_TTFT_REQUESTS ?? 300);
const CONCURRENT_STREAMS = Number(process.env.BENCH_CONCURRENT_STREAMS ?? 1000);
const STREAM_BODY = JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'Benchmark prompt: stream.' }] });

/** Sends one streamed request; resolves with the time to the first SSE data line and whether [DONE] arrived. */
async function stream(url: string, agent: Agent): Promise<{ firstTokenMs: number; complete: boolean }> {
  const started = process.hrtime.bigint();
  const response = await request(url, { method: 'POST', body: STREAM_BODY, headers: { 'content-type': 'application/json', apikey: DEMO_API_KEY }, dispatcher: agent });
  let firstTokenMs = -1;
  let text = '';
  for await (const chunk of response.body) {
    if (firstTokenMs < 0) firstTokenMs = Number(process.hrtime.bigint() - started) / 1e6;
    text += chunk.toString();
  }
  return { firstTokenMs, complete: response.statusCode === 200 && text.includes('data: [DONE]') };
}

async function timeToFirstToken(gateway: Gateway): Promise<{ p50_ms: number; p99_ms: number; errors: number }> {
  const agent = new Agent({ connections: 64 });
  const url = `${gateway.kong.url}/v1/chat/completions`;
  for (let index = 0; index < 50; index += 1) await stream(url, agent); // warm up
  const samples: number[] = [];
  let errors = 0;
  let next = 0;
  const worker = async () => {
    while (next++ < TTFT_REQUESTS) {
      const result = await stream(url, agent).catch(() => null);
      if (result?.complete) samples.push(result.firstTokenMs);
      else errors += 1;
    }
  };
  // One at a time: the overhead of the chain itself, not of CPU shared with other streams.
  await worker();
  await agent.close();
  return { p50_ms: percentile(samples, 0.5), p99_ms: percentile(samples, 0.99), errors };
}

async function pluginServerMemory(gateway: Gateway): Promise<number> {
  const text = await (await fetch(`${gateway.connectorUrl}/metrics`)).text();
  const line = text.split('\n').find((candidate) => candidate.startsWith('kong_ai_process_resident_memory_bytes '));
  return Math.round(Number(line?.split(' ')[1] ?? 0) / 2 ** 20);
}

async function concurrentStreams(gateway: Gateway): Promise<Record<string, number>> {
  gateway.mock.setFaults({ chunkDelayMs: 50 }); // about 2 s per recorded stream: all of them overlap
  const agent = new Agent({ connections: CONCURRENT_STREAMS + 10 });
  const url = `${gateway.kong.url}/v1/chat/completions`;
  const before = await pluginServerMemory(gateway);
  let peak = before;
  const sampler = setInterval(() => void pluginServerMemory(gateway).then((value) => (peak = Math.max(peak, value)), () => undefined), 200);
  const started = Date.now();
  const results = await Promise.all(Array.from({ length: CONCURRENT_STREAMS }, () => stream(url, agent).catch(() => ({ firstTokenMs: -1, complete: false }))));
  const wallMs = Date.now() - started;
  clearInterval(sampler);
  gateway.mock.setFaults({});
  await agent.close();
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const after = await pluginServerMemory(gateway);
  const status = (await (await fetch(`${gateway.connectorUrl}/__ai/status`)).json()) as { contexts: number };
  return {
    streams: CONCURRENT_STREAMS,
    completed: results.filter((result) => result.complete).length,
    errors: results.filter((result) => !result.complete).length,
    wall_ms: wallMs,
    ttft_p50_ms: percentile(results.filter((result) => result.complete).map((result) => result.firstTokenMs), 0.5),
    ttft_p99_ms: percentile(results.filter((result) => result.complete).map((result) => result.firstTokenMs), 0.99),
    plugin_server_rss_mib_before: before,
    plugin_server_rss_mib_peak: peak,
    plugin_server_rss_mib_after: after,
    contexts_left: status.contexts,
  };
}

async function main(): Promise<void> {
  const direct = await startGateway({ declarativeConfig: writeKongYml(DIRECT_KONG_YML) });
  const directTtft = await timeToFirstToken(direct).finally(() => direct.stop());
  process.stdout.write(`streaming TTFT, direct:           ${JSON.stringify(directTtft)}\n`);
  const chain = await startGateway({ pluginServerEnvironment: { AI_LOG_LEVEL: 'warn' } });
  try {
    const chainTtft = await timeToFirstToken(chain);
    process.stdout.write(`streaming TTFT, all five plugins: ${JSON.stringify(chainTtft)}\n`);
    const held = await concurrentStreams(chain);
    process.stdout.write(`${CONCURRENT_STREAMS} concurrent streams: ${JSON.stringify(held)}\n`);
    const report = {
      benchmark: 'streaming: time-to-first-token overhead and concurrent streams through Kong (stand-in) and all five plugins',
      rerun: 'make bench (BENCH_TTFT_REQUESTS, BENCH_CONCURRENT_STREAMS to change the load)',
      ttft: { direct: directTtft, all_five_plugins: chainTtft, overhead_p50_ms: Math.round((chainTtft.p50_ms - directTtft.p50_ms) * 100) / 100, overhead_p99_ms: Math.round((chainTtft.p99_ms - directTtft.p99_ms) * 100) / 100 },
      concurrent_streams: held,
    };
    saveReport('streams', report);
  } finally {
    await chain.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack}\n`);
  process.exit(1);
});
