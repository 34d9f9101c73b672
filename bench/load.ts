// What every benchmark shares: the kong.yml variants, the request, open-loop load and its statistics.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { Agent, request } from 'undici';
import { REPOSITORY_ROOT } from '../test/support/gateway';
import { sharedDataPath } from '../test/support/shared-data';

export interface LoadResult {
  requests: number;
  errors: number;
  p50_ms: number;
  p90_ms: number;
  p99_ms: number;
}

/** A non-streaming chat completion, the request every latency benchmark sends. */
export const CHAT_BODY = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Benchmark prompt: say hello.' }] });

/** Kong (stand-in) proxying straight to the mock: the baseline. `http://mock-llm:9090` becomes the mock's address. */
export const DIRECT_KONG_YML = `_format_version: "3.0"
services:
  - name: provider
    url: http://mock-llm:9090/v1
    routes:
      - name: chat
        paths: [/v1]
        response_buffering: false
`;

/** Kong with llm-proxy only: the connector in the path, no policy plugin. */
export const LLM_PROXY_KONG_YML = `_format_version: "3.0"
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
                - { provider: openai-compatible, model: gpt-4o-mini, base_url: "http://mock-llm:9090/v1", api_key: "{vault://env/mock-llm-api-key}" }
`;

/** Sends `rate` requests a second for `seconds`, on schedule whatever earlier ones are doing (open loop). */
export async function openLoop(url: string, body: string, headers: Record<string, string>, rate: number, seconds: number, warmup = 200): Promise<LoadResult> {
  const agent = new Agent({ connections: 256, keepAliveTimeout: 30_000 });
  const send = async (): Promise<number> => {
    const started = process.hrtime.bigint();
    const response = await request(url, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers }, dispatcher: agent });
    await response.body.text();
    if (response.statusCode !== 200) throw new Error(`status ${response.statusCode}`);
    return Number(process.hrtime.bigint() - started) / 1e6;
  };
  for (let index = 0; index < warmup; index += 1) await send();
  const total = rate * seconds;
  const latencies: number[] = [];
  let errors = 0;
  const start = performance.now();
  const pending: Array<Promise<void>> = [];
  for (let index = 0; index < total; index += 1) {
    const wait = start + (index * 1000) / rate - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    pending.push(send().then((latency) => void latencies.push(latency), () => void (errors += 1)));
  }
  await Promise.all(pending);
  await agent.close();
  return { requests: total, errors, p50_ms: percentile(latencies, 0.5), p90_ms: percentile(latencies, 0.9), p99_ms: percentile(latencies, 0.99) };
}

export function percentile(values: number[], fraction: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return round(sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))] ?? NaN);
}

export function round(value: number): number {
  return Math.round(value * 100) / 100;
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux). */
export function cpuSeconds(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // After the command name: state is field 3, utime field 14, stime field 15 (1-based, proc(5)).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * Writes `bench/results/<name>.json`, recording the machine it ran on and when, and says so.
 * The report keeps its own fields; `machine` and `measured_at` are added here.
 */
export function saveReport(name: string, report: Record<string, unknown>): void {
  const machine = { cpus: os.cpus().length, cpu_model: os.cpus()[0]?.model, memory_gib: Math.round(os.totalmem() / 2 ** 30), node: process.version };
  const directory = path.join(REPOSITORY_ROOT, 'bench/results');
  fs.mkdirSync(directory, { recursive: true });
  fs.writeFileSync(path.join(directory, `${name}.json`), `${JSON.stringify({ ...report, machine, measured_at: new Date().toISOString() }, null, 2)}\n`);
  process.stdout.write(`saved bench/results/${name}.json\n`);
}

/** Average milliseconds per call of `work`, run repeatedly for at least `minimumMs` after a warm-up. */
export function msPerCall(work: () => unknown, minimumMs = 1000): number {
  for (let index = 0; index < 3; index += 1) work();
  let calls = 0;
  const started = performance.now();
  while (performance.now() - started < minimumMs) {
    work();
    calls += 1;
  }
  return (performance.now() - started) / calls;
}

/** The hh-rlhf dialogues of ../shared/data (the "chosen" side): natural prompt text for tokenizer and scanner benchmarks. */
export function corpusDialogues(): string[] {
  const file = sharedDataPath('prompts', 'hh-rlhf_harmless-base_test.jsonl.gz');
  return zlib
    .gunzipSync(fs.readFileSync(file))
    .toString('utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => (JSON.parse(line) as { chosen: string }).chosen);
}
