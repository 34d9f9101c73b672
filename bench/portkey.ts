// `make bench`, comparison: what our plugin server adds to a request, against @portkey-ai/gateway on the same mock.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { startMockLlm } from '../test/mock-llm/mock-llm';
import { freePort } from '../test/support/free-port';
import { DEMO_API_KEY, startGateway, writeKongYml } from '../test/support/gateway';
import { CHAT_BODY, DIRECT_KONG_YML, LLM_PROXY_KONG_YML, cpuSeconds, openLoop, round, saveReport, type LoadResult } from './load';

const RATE = Number(process.env.BENCH_RATE ?? 200);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
interface Measured extends LoadResult {
  cpu_ms_per_request: number | null;
}

/** Portkey's open-source gateway, from npm, in its own process, pointed at the mock with a custom host. */
async function measurePortkey(mockUrl: string): Promise<Measured> {
  const port = await freePort();
  const entry = path.join(path.dirname(require.resolve('@portkey-ai/gateway/package.json')), 'build/start-server.js');
  const child = spawn(process.execPath, [entry, `--port=${port}`, '--headless'], { stdio: 'ignore', env: { ...process.env, NODE_ENV: 'production' } });
  try {
    for (let attempt = 0; attempt < 100; attempt += 1) {
      const up = await fetch(`http://127.0.0.1:${port}/`).then(() => true, () => false);
      if (up) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const headers = { 'x-portkey-provider': 'openai', 'x-portkey-custom-host': mockUrl, authorization: 'Bearer mock-key' };
    const url = `http://127.0.0.1:${port}/v1/chat/completions`;
    await openLoop(url, CHAT_BODY, headers, RATE, 1); // warm up the process before counting its CPU
    const cpuBefore = cpuSeconds(child.pid!);
    const result = await openLoop(url, CHAT_BODY, headers, RATE, SECONDS, 0);
    return { ...result, cpu_ms_per_request: round(((cpuSeconds(child.pid!) - cpuBefore) * 1000) / result.requests) };
  } finally {
    child.kill('SIGTERM');
  }
}

/** Ours: Kong (stand-in) with llm-proxy, and the same stand-in proxying straight to the mock as the baseline. */
async function measureOurs(yml: string, countPluginServerCpu: boolean): Promise<Measured> {
  const gateway = await startGateway({ declarativeConfig: writeKongYml(yml), pluginServerEnvironment: { AI_LOG_LEVEL: 'warn' } });
  try {
    const url = `${gateway.kong.url}/v1/chat/completions`;
    await openLoop(url, CHAT_BODY, { apikey: DEMO_API_KEY }, RATE, 1);
    const pid = gateway.kong.pluginServer?.child?.pid;
    const cpuBefore = countPluginServerCpu && pid ? cpuSeconds(pid) : 0;
    const result = await openLoop(url, CHAT_BODY, { apikey: DEMO_API_KEY }, RATE, SECONDS, 0);
    return { ...result, cpu_ms_per_request: countPluginServerCpu && pid ? round(((cpuSeconds(pid) - cpuBefore) * 1000) / result.requests) : null };
  } finally {
    await gateway.stop();
  }
}

async function main(): Promise<void> {
  const mock = await startMockLlm();
  let mockDirect: LoadResult;
  let portkey: Measured;
  try {
    mockDirect = await openLoop(`${mock.url}/chat/completions`, CHAT_BODY, {}, RATE, SECONDS);
    portkey = await measurePortkey(mock.url);
  } finally {
    await mock.close();
  }
  const standInDirect = await measureOurs(DIRECT_KONG_YML, false);
  const ours = await measureOurs(LLM_PROXY_KONG_YML, true);
  const portkeyAdded = { p50_ms: round(portkey.p50_ms - mockDirect.p50_ms), p99_ms: round(portkey.p99_ms - mockDirect.p99_ms) };
  const oursAdded = { p50_ms: round(ours.p50_ms - standInDirect.p50_ms), p99_ms: round(ours.p99_ms - standInDirect.p99_ms) };
  const report = {
    benchmark: 'llm-proxy against @portkey-ai/gateway 1.15.2: added latency and CPU per non-streaming request, same mock, same run',
    rate_per_second: RATE,
    duration_seconds: SECONDS,
    rerun: 'make bench (BENCH_RATE, BENCH_SECONDS)',
    mock_direct: mockDirect,
    portkey,
    stand_in_direct: standInDirect,
    llm_proxy: ours,
    added: { portkey: portkeyAdded, llm_proxy: oursAdded },
    ratio_ours_to_portkey: {
      added_p50: round(oursAdded.p50_ms / portkeyAdded.p50_ms),
      cpu_per_request: ours.cpu_ms_per_request !== null && portkey.cpu_ms_per_request ? round(ours.cpu_ms_per_request / portkey.cpu_ms_per_request) : null,
    },
    note: "Ours is measured behind the Kong stand-in (the baseline is the stand-in proxying straight to the mock); Portkey is called directly (its baseline is the mock alone). CPU counts our plugin server process, and Portkey's process.",
  };
  process.stdout.write(`${JSON.stringify(report.added)} ratio ${JSON.stringify(report.ratio_ours_to_portkey)} cpu ms/request ours ${ours.cpu_ms_per_request} portkey ${portkey.cpu_ms_per_request}\n`);
  saveReport('portkey', report);
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack}\n`);
  process.exit(1);
});
