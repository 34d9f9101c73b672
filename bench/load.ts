// What every benchmark shares: the kong.yml variants, the request, open-loop load and its statistics.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { Agent, request } from 'undici';
import { REPOSITORY_ROOT } from '../test/support/gateway';
import { sharedDataPath } from '../test/support/shared-data';
import { INJECTION_MODEL } from '../plugins/prompt-guard/injection-classifier';
import { scoreInjection } from '../plugins/prompt-guard/score-injection';

export interface LoadResult {
  requests: number;
  errors: number;
  p50_ms: number;
  p90_ms: number;
  p99_ms: number;
  /** The latency at each of DISTRIBUTION_PERCENTILES, in order: the whole distribution in 100 numbers, for charts. */
  distribution_ms: number[];
  /** What the failed requests got (`status 400`, a connection error's message), when any failed. */
  error_kinds?: Record<string, number>;
  /** How many responses carried each value of `countHeader` (e.g. x-cache-status), when asked for. */
  header_counts?: Record<string, number>;
}

/** The percentiles every distribution is summarised at: 1 to 99, then 99.9 for the tail. */
export const DISTRIBUTION_PERCENTILES: readonly number[] = [...Array.from({ length: 99 }, (_, index) => index + 1), 99.9];

/** A fixed request body, or one made from the request's index (so every request can ask something new). */
export type RequestBody = string | ((index: number) => string);

export interface OpenLoopOptions {
  /** A response header whose values are counted, to check what the measured path was (a cache miss, say). */
  countHeader?: string;
  /** Called once the warm-up is over, right before the measured requests: where CPU counters are read. */
  afterWarmup?: () => void;
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

/**
 * Sends `rate` requests a second for `seconds`, on schedule whatever earlier ones are doing (open loop),
 * after `warmup` requests one at a time. A body factory gets one index per request, warm-up included.
 */
export async function openLoop(url: string, body: RequestBody, headers: Record<string, string>, rate: number, seconds: number, warmup = 200, options: OpenLoopOptions = {}): Promise<LoadResult> {
  const agent = new Agent({ connections: 256, keepAliveTimeout: 30_000 });
  const bodyOf = typeof body === 'string' ? () => body : body;
  const headerCounts: Record<string, number> = {};
  let sent = 0;
  const send = async (counted: boolean): Promise<number> => {
    const requestBody = bodyOf(sent++);
    const started = process.hrtime.bigint();
    const response = await request(url, { method: 'POST', body: requestBody, headers: { 'content-type': 'application/json', ...headers }, dispatcher: agent });
    await response.body.text();
    if (response.statusCode !== 200) throw new Error(`status ${response.statusCode}`);
    const latency = Number(process.hrtime.bigint() - started) / 1e6;
    if (counted && options.countHeader) {
      const value = String(response.headers[options.countHeader.toLowerCase()] ?? '(absent)');
      headerCounts[value] = (headerCounts[value] ?? 0) + 1;
    }
    return latency;
  };
  // A warm-up failure shows again among the measured requests; it must not end the run.
  for (let index = 0; index < warmup; index += 1) await send(false).catch(() => undefined);
  options.afterWarmup?.();
  const total = rate * seconds;
  const latencies: number[] = [];
  const errorKinds: Record<string, number> = {};
  const failed = (error: unknown) => {
    const kind = (error as Error).message;
    errorKinds[kind] = (errorKinds[kind] ?? 0) + 1;
  };
  const start = performance.now();
  const pending: Array<Promise<void>> = [];
  for (let index = 0; index < total; index += 1) {
    const wait = start + (index * 1000) / rate - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    pending.push(send(true).then((latency) => void latencies.push(latency), failed));
  }
  await Promise.all(pending);
  await agent.close();
  const errors = total - latencies.length;
  return {
    requests: total,
    errors,
    p50_ms: percentile(latencies, 0.5),
    p90_ms: percentile(latencies, 0.9),
    p99_ms: percentile(latencies, 0.99),
    distribution_ms: distribution(latencies),
    ...(errors > 0 ? { error_kinds: errorKinds } : {}),
    ...(options.countHeader ? { header_counts: headerCounts } : {}),
  };
}

/** The latencies at DISTRIBUTION_PERCENTILES, sorted once. */
export function distribution(values: number[]): number[] {
  const sorted = [...values].sort((a, b) => a - b);
  return DISTRIBUTION_PERCENTILES.map((point) => round(sorted[Math.min(sorted.length - 1, Math.floor((point / 100) * sorted.length))] ?? NaN));
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

/** Where results are written and the report reads them: `BENCH_RESULTS_DIR`, else bench/results (tests use a temporary one). */
export function resultsDirectory(): string {
  return process.env.BENCH_RESULTS_DIR ?? path.join(REPOSITORY_ROOT, 'bench/results');
}

/**
 * Writes `<results directory>/<name>.json`, recording the machine it ran on and when, and says so.
 * The report keeps its own fields; `machine` and `measured_at` are added here.
 */
export function saveReport(name: string, report: Record<string, unknown>): void {
  const machine = { cpus: os.cpus().length, cpu_model: os.cpus()[0]?.model, memory_gib: Math.round(os.totalmem() / 2 ** 30), node: process.version };
  const directory = resultsDirectory();
  fs.mkdirSync(directory, { recursive: true });
  const file = path.join(directory, `${name}.json`);
  fs.writeFileSync(file, `${formatJson({ ...report, machine, measured_at: new Date().toISOString() })}\n`);
  const relative = path.relative(process.cwd(), file);
  process.stdout.write(`saved ${relative.startsWith('..') ? file : relative}\n`);
}

/** Indented JSON with arrays of numbers kept on one line: a distribution is one line in a diff, not a hundred. */
export function formatJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(/\[\s*((?:-?[\d.e+-]+|null)(?:,\s*(?:-?[\d.e+-]+|null))*)\s*\]/g, (_, numbers: string) => `[${numbers.split(/,\s*/).join(', ')}]`);
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

/** The opening human turn of each hh-rlhf dialogue: ordinary questions, as users ask them. */
export function corpusQuestions(): string[] {
  return corpusDialogues()
    .map((dialogue) => dialogue.split('\n\nAssistant:')[0]!.replace(/^\s*Human:\s*/, '').trim())
    .filter((question) => question.length > 0);
}

/**
 * Chat completion bodies made from the request index: a corpus question with the index appended, so no two
 * requests are the same question. Any cache is missed every time: the text differs, and a semantic match is
 * refused because the numbers differ (semantic-cache's guard_specifics, on by default). A question that
 * prompt-guard's shipped classifier would refuse (about 0.4 % of them) gives way to the next one: a latency
 * benchmark times admitted requests.
 */
export function uniqueChatBodies(extra: Record<string, unknown> = {}): (index: number) => string {
  const questions = corpusQuestions();
  const admitted = (text: string) => scoreInjection(text).score < INJECTION_MODEL.threshold;
  return (index) => {
    let question = index % questions.length;
    while (!admitted(`${questions[question]} (request ${index})`)) question = (question + 1) % questions.length;
    return JSON.stringify({ model: 'gpt-4o-mini', ...extra, messages: [{ role: 'user', content: `${questions[question]} (request ${index})` }] });
  };
}
