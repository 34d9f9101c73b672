// The published benchmark's correctness figures, each measured in this run: token accounting, rate-limit overshoot, cache false hits, PII leaks, injection detection.
import OpenAI from 'openai';
import { saveReport, corpusDialogues } from './load';
import { measurePromptEstimates } from '../eval/token-counts';
import { measureFalseHits, SHIPPED_THRESHOLD } from '../eval/semantic-cache';
import { measureInjectionLayer } from '../eval/prompt-guard';
import { humanTurns } from '../eval/train-injection-classifier';
import { DEMO_API_KEY, connectorKongYml, routeYml, startGateway, writeKongYml, type Gateway } from '../test/support/gateway';
import { startRedis, type RedisServer } from '../test/support/redis-server';
import { startRecordingProxy, reportedUsage, streamedContentPieces, type Exchange, type RecordingProxy } from '../test/support/recording-proxy';
import { raceForBudget, startBudgetNodes, storedBudget } from '../test/support/shared-budget';
import { fuzzPrompts, type FuzzPrompt } from '../test/support/pii-fuzz';
import { chunkBoundaries, cutCoverage, cutsInside, overshoot, placeholderSpans, relativeError, valueCutByChunks } from '../test/support/correctness-measures';
import { waitFor } from '../test/support/wait-for';

// Sizes, all overridable so a quick run or a thorough one is one variable away.
/** Plain requests, and as many streamed (half of them with include_usage). */
const ACCOUNTING_REQUESTS = Number(process.env.CORRECTNESS_REQUESTS ?? 200);
const RACE_REQUESTS = Number(process.env.CORRECTNESS_RACE_REQUESTS ?? 200);
const RACE_RUNS = Number(process.env.CORRECTNESS_RACE_RUNS ?? 3);
const RACE_LIMIT = Number(process.env.CORRECTNESS_RACE_LIMIT ?? 3000);
const RACE_MAX_TOKENS = 20;
/** Common English words, one o200k token each: the race's prompts cost about what the mock bills for them (one token a word). */
const EVERYDAY_WORDS = 'please tell me about the weather in the city today and what people should wear when they go out for a walk in the park'.split(' ');
const PII_PROMPTS = Number(process.env.CORRECTNESS_PII_PROMPTS ?? 3000);
const PII_CONCURRENCY = 16;
/** Pairs per held-out set; all of them unless asked (embedding them is most of this benchmark's time). */
const CACHE_PAIRS = Number(process.env.CORRECTNESS_CACHE_PAIRS ?? Infinity);

/** The connector calls the provider through this address; the recording proxy behind it forwards to the mock. */
const RECORDER_ADDRESS = 'http://provider-recorder:9191/v1';
/** A generous Redis timeout: a stall of the shared two-core machine must not pass for an accounting error (the default 50 ms fails open). */
const REDIS_TIMEOUT_MS = 1000;
/** Every third accounting request caps its answer, so truncated answers (finish_reason length) are counted too. */
const CAPPED_MAX_TOKENS = 8;
const FAILURES: string[] = [];

function kongYml(redisPort: number): string {
  const target = `              targets:
                - { provider: openai-compatible, model: gpt-4o, base_url: "${RECORDER_ADDRESS}" }`;
  return connectorKongYml(`${routeYml('accounting', {
    plugins: [
      [
        'token-limit',
        `              namespace: accounting
              limits:
                - { name: in, metric: input_tokens, limit: 1000000000, window: hour }
                - { name: out, metric: output_tokens, limit: 1000000000, window: hour }
                - { name: all, metric: total_tokens, limit: 1000000000, window: hour }
              policy: redis
              redis: { host: 127.0.0.1, port: ${redisPort}, timeout_ms: ${REDIS_TIMEOUT_MS} }`,
      ],
    ],
    llmProxy: target,
  })}${routeYml('pii', { plugins: [['pii-redact', '']], llmProxy: target })}`);
}

function sdk(gateway: Gateway, route: string): OpenAI {
  return new OpenAI({ apiKey: 'unused', baseURL: `${gateway.kong.url}/${route}/v1`, defaultHeaders: { apikey: DEMO_API_KEY }, maxRetries: 0 });
}

function check(condition: boolean, failure: string): void {
  if (!condition) FAILURES.push(failure);
}

function round(value: number, digits = 4): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

// ---------------------------------------------------------------------------------------------
// Token accounting

type AccountingKind = 'plain' | 'stream_with_usage' | 'stream_without_usage';

interface AccountingRequest {
  kind: AccountingKind;
  messages: Array<{ role: 'system' | 'user'; content: string }>;
  maxTokens: number | null;
}

/** Everyday prompts (hh-rlhf human turns) of varied length; some with a system prompt, some capped. */
function accountingRequests(count: number): AccountingRequest[] {
  const turns = corpusDialogues()
    .flatMap(humanTurns)
    .filter((turn) => turn.length >= 20);
  // A stride through the corpus mixes short and long turns.
  const stride = Math.max(1, Math.floor(turns.length / (2 * count)));
  return Array.from({ length: 2 * count }, (_, index) => {
    const kind: AccountingKind = index < count ? 'plain' : index % 2 === 0 ? 'stream_with_usage' : 'stream_without_usage';
    const content = turns[(index * stride) % turns.length]!.slice(0, 1500);
    const system = index % 4 === 1 ? [{ role: 'system' as const, content: 'You are a careful assistant. Answer briefly.' }] : [];
    return { kind, messages: [...system, { role: 'user' as const, content }], maxTokens: index % 3 === 2 ? CAPPED_MAX_TOKENS : null };
  });
}

/** Usage the client was told (plain answers and streams that asked for it); null when it was told none. */
async function sendAccountingRequest(client: OpenAI, request: AccountingRequest): Promise<{ prompt_tokens: number; completion_tokens: number } | null> {
  const base = { model: 'gpt-4o', messages: request.messages, ...(request.maxTokens === null ? {} : { max_tokens: request.maxTokens }) };
  if (request.kind === 'plain') {
    const completion = await client.chat.completions.create(base);
    return completion.usage ?? null;
  }
  const stream = await client.chat.completions.create({ ...base, stream: true, ...(request.kind === 'stream_with_usage' ? { stream_options: { include_usage: true } } : {}) });
  let usage: { prompt_tokens: number; completion_tokens: number } | null = null;
  for await (const chunk of stream) if (chunk.usage) usage = chunk.usage;
  return usage;
}

interface Counters {
  input: number;
  output: number;
  total: number;
  reserved: number;
}

/** The demo consumer's committed counters (every window) and what is still reserved. */
async function accountingCounters(redis: RedisServer): Promise<Counters> {
  const sum = async (limit: string) => {
    const hashes = await Promise.all((await redis.client.keys(`tl:{accounting:*}:${limit}:*`)).map((key) => redis.client.hgetall(key)));
    return { committed: hashes.reduce((total, hash) => total + Number(hash.c ?? 0), 0), reserved: hashes.reduce((total, hash) => total + Number(hash.r ?? 0), 0) };
  };
  const [input, output, total] = await Promise.all([sum('in'), sum('out'), sum('all')]);
  return { input: input.committed, output: output.committed, total: total.committed, reserved: input.reserved + output.reserved + total.reserved };
}

async function measureTokenAccounting(gateway: Gateway, recorder: RecordingProxy, redis: RedisServer) {
  const client = sdk(gateway, 'accounting');
  const requests = accountingRequests(ACCOUNTING_REQUESTS);
  const totals = { provider_input: 0, provider_output: 0, committed_input: 0, committed_output: 0, provider_total: 0, committed_total: 0, absolute_error: 0 };
  let maxRelativeError = 0;
  let mismatched = 0;
  let failed = 0;
  let usageMissing = 0;
  let clientUsageMismatches = 0;
  const byKind: Record<AccountingKind, { requests: number; absolute_error_tokens: number }> = {
    plain: { requests: 0, absolute_error_tokens: 0 },
    stream_with_usage: { requests: 0, absolute_error_tokens: 0 },
    stream_without_usage: { requests: 0, absolute_error_tokens: 0 },
  };
  // One request at a time: each one's commit is the change of the counters it leaves behind.
  for (const request of requests) {
    const before = await accountingCounters(redis);
    const exchangesBefore = recorder.exchanges.length;
    let toldClient: Awaited<ReturnType<typeof sendAccountingRequest>>;
    try {
      toldClient = await sendAccountingRequest(client, request);
    } catch (error) {
      failed += 1;
      process.stderr.write(`accounting request failed: ${(error as Error).message}\n`);
      continue;
    }
    await waitFor(async () => recorder.exchanges.length > exchangesBefore && (await accountingCounters(redis)).reserved === 0, 10_000);
    const after = await accountingCounters(redis);
    const reported = reportedUsage(recorder.exchanges[exchangesBefore]!);
    if (reported === null) {
      usageMissing += 1;
      continue;
    }
    const committed = { input: after.input - before.input, output: after.output - before.output, total: after.total - before.total };
    const providerTotal = reported.prompt_tokens + reported.completion_tokens;
    const error = Math.abs(committed.input - reported.prompt_tokens) + Math.abs(committed.output - reported.completion_tokens);
    totals.provider_input += reported.prompt_tokens;
    totals.provider_output += reported.completion_tokens;
    totals.provider_total += providerTotal;
    totals.committed_input += committed.input;
    totals.committed_output += committed.output;
    totals.committed_total += committed.total;
    totals.absolute_error += error;
    maxRelativeError = Math.max(maxRelativeError, relativeError(committed.input, reported.prompt_tokens), relativeError(committed.output, reported.completion_tokens), relativeError(committed.total, providerTotal));
    if (error !== 0 || committed.total !== providerTotal) mismatched += 1;
    byKind[request.kind].requests += 1;
    byKind[request.kind].absolute_error_tokens += error;
    if (toldClient !== null && (toldClient.prompt_tokens !== reported.prompt_tokens || toldClient.completion_tokens !== reported.completion_tokens)) clientUsageMismatches += 1;
  }
  const streamed = requests.filter((request) => request.kind !== 'plain').length;
  check(failed === 0, `token accounting: ${failed} requests failed`);
  check(usageMissing === 0, `token accounting: the provider reported no usage for ${usageMissing} requests`);
  check(mismatched === 0, `token accounting: ${mismatched} requests committed other than the provider's usage (${totals.absolute_error} tokens off)`);
  check(clientUsageMismatches === 0, `token accounting: ${clientUsageMismatches} clients were told usage other than the provider's`);
  return {
    requests: requests.length,
    streamed,
    streamed_with_include_usage: requests.filter((request) => request.kind === 'stream_with_usage').length,
    capped_by_max_tokens: requests.filter((request) => request.maxTokens !== null).length,
    failed_requests: failed,
    provider_usage_missing: usageMissing,
    provider_tokens: totals.provider_total,
    committed_tokens: totals.committed_total,
    provider_input_tokens: totals.provider_input,
    committed_input_tokens: totals.committed_input,
    provider_output_tokens: totals.provider_output,
    committed_output_tokens: totals.committed_output,
    /** Sum over requests of |committed - reported|, input and output each. */
    absolute_error_tokens: totals.absolute_error,
    requests_off: mismatched,
    max_relative_error: round(maxRelativeError),
    by_kind: byKind,
    client_usage_mismatches: clientUsageMismatches,
    redis_timeout_ms: REDIS_TIMEOUT_MS,
    prompt_estimate: promptEstimate(),
  };
}

/** The prompt-token estimate (what is reserved before the call) against usage providers recorded. */
function promptEstimate() {
  const measured = measurePromptEstimates();
  return {
    recorded_requests: measured.recorded_requests,
    providers: measured.providers.map((row) => ({
      ...row,
      mean_relative_error: round(row.mean_relative_error),
      p90_relative_error: round(row.p90_relative_error),
      max_relative_error: round(row.max_relative_error),
      counted_low: round(row.counted_low),
    })),
  };
}

// ---------------------------------------------------------------------------------------------
// Rate-limit overshoot

/**
 * 20 to 29 everyday words: the reservation (prompt tokens with OpenAI's 7 tokens of framing, plus max_tokens) is then
 * close to what the echoing mock bills (a token a word, the answer cut at max_tokens), so admitted usage can approach
 * the limit, and a race that reserved past it would show as overshoot.
 */
function racePrompt(index: number): string {
  return Array.from({ length: 20 + (index % 10) }, (_, word) => EVERYDAY_WORDS[(index + word) % EVERYDAY_WORDS.length]).join(' ');
}

async function measureOvershoot() {
  const redis = await startRedis();
  const budget = { limit: RACE_LIMIT, maxTokens: RACE_MAX_TOKENS };
  let nodes: Gateway[] = [];
  try {
    nodes = await startBudgetNodes(`{ host: 127.0.0.1, port: ${redis.port}, timeout_ms: ${REDIS_TIMEOUT_MS} }`, budget, { pluginServerEnvironment: { AI_LOG_LEVEL: 'warn' } });
    const runs = [];
    for (let run = 0; run < RACE_RUNS; run += 1) {
      // A fresh budget each run: the counters go, the nodes and their connections stay.
      await redis.client.flushall();
      const responses = await raceForBudget(nodes, RACE_REQUESTS, racePrompt);
      await waitFor(async () => (await storedBudget([redis.client])).reserved === 0, 10_000);
      const stored = await storedBudget([redis.client]);
      const admitted = responses.filter((response) => response.status === 200);
      const over = overshoot(stored.committed, budget.limit);
      const otherStatuses = responses.filter((response) => response.status !== 200 && response.status !== 429).length;
      const toldClients = admitted.reduce((sum, response) => sum + (response.totalTokens ?? 0), 0);
      check(otherStatuses === 0, `rate-limit overshoot run ${run + 1}: ${otherStatuses} answers neither 200 nor 429`);
      check(over.tokens === 0, `rate-limit overshoot run ${run + 1}: ${stored.committed} tokens admitted against a limit of ${budget.limit}`);
      check(stored.reservations === 0, `rate-limit overshoot run ${run + 1}: ${stored.reservations} reservations left`);
      check(stored.committed === toldClients, `rate-limit overshoot run ${run + 1}: counters hold ${stored.committed} tokens, clients were told ${toldClients}`);
      runs.push({
        requests: responses.length,
        admitted_requests: admitted.length,
        refused_requests: responses.filter((response) => response.status === 429).length,
        other_statuses: otherStatuses,
        admitted_tokens: stored.committed,
        tokens_told_to_clients: toldClients,
        overshoot_tokens: over.tokens,
        overshoot_percent: round(over.percent, 2),
        left_reserved: stored.reserved,
      });
    }
    const worst = runs.reduce((highest, run) => (run.admitted_tokens > highest.admitted_tokens ? run : highest), runs[0]!);
    return {
      nodes: nodes.length,
      redis: 'standalone',
      limit_tokens: budget.limit,
      concurrent_requests: RACE_REQUESTS,
      max_tokens_per_request: budget.maxTokens,
      /** The run that admitted the most. */
      admitted_tokens: worst.admitted_tokens,
      overshoot_tokens: worst.overshoot_tokens,
      overshoot_percent: worst.overshoot_percent,
      runs,
    };
  } finally {
    await Promise.all(nodes.map((node) => node.stop()));
    await redis.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// PII leaks

interface StreamFinding {
  placeholders: number;
  cuts: Array<{ length: number; offsets: number[] }>;
  placeholderTextShown: boolean;
  valueCut: boolean;
}

/** Masked values come back as they were; secrets are redacted by default, irreversibly. */
function expectedAnswer(prompt: FuzzPrompt & { tagged: string }): string {
  return prompt.values.reduce((text, { entity, value }) => (entity === 'secret' ? text.replace(value, '[REDACTED_SECRET]') : text), prompt.tagged);
}

/** What the provider's chunks did to the placeholders, and what the client saw of them. */
function inspectStream(exchange: Exchange, clientPieces: string[], expected: string, maskedValues: string[]): StreamFinding {
  const providerPieces = streamedContentPieces(exchange.responseBody);
  const providerText = providerPieces.join('');
  const boundaries = chunkBoundaries(providerPieces);
  const spans = placeholderSpans(providerText);
  const clientText = clientPieces.join('');
  const clientBoundaries = chunkBoundaries(clientPieces);
  return {
    placeholders: spans.length,
    cuts: spans.map((span) => ({ length: span.end - span.start, offsets: cutsInside(span, boundaries) })),
    // The fuzzed prompts hold no angle brackets: any in a client chunk is a placeholder or a piece of one.
    placeholderTextShown: !expected.includes('<') && clientPieces.some((piece) => piece.includes('<') || piece.includes('>')),
    valueCut: maskedValues.some((value) => valueCutByChunks(clientText, value, clientBoundaries)),
  };
}

async function measurePiiLeaks(gateway: Gateway, recorder: RecordingProxy) {
  const client = sdk(gateway, 'pii');
  // Each prompt carries its number, so every upstream request can be paired with the values it must not contain.
  const prompts = fuzzPrompts(PII_PROMPTS).map((prompt, index) => ({ ...prompt, tagged: `[#${index}] ${prompt.text}` }));
  const clientPieces = new Map<number, string[]>();
  const answers = new Map<number, string>();
  let failed = 0;
  gateway.mock.reset();
  const exchangesBefore = recorder.exchanges.length;
  let next = 0;
  const worker = async () => {
    while (next < prompts.length) {
      const index = next++;
      const messages = [{ role: 'user' as const, content: prompts[index]!.tagged }];
      try {
        // Every other prompt streams: the stream side needs as many answers as the plain side.
        if (index % 2 === 0) {
          const pieces: string[] = [];
          for await (const chunk of await client.chat.completions.create({ model: 'm', messages, stream: true })) {
            const content = chunk.choices[0]?.delta?.content;
            if (content) pieces.push(content);
          }
          clientPieces.set(index, pieces);
          answers.set(index, pieces.join(''));
        } else {
          answers.set(index, (await client.chat.completions.create({ model: 'm', messages })).choices[0]!.message.content ?? '');
        }
      } catch (error) {
        failed += 1;
        process.stderr.write(`pii request ${index} failed: ${(error as Error).message}\n`);
      }
    }
  };
  await Promise.all(Array.from({ length: PII_CONCURRENCY }, worker));

  const indexOf = (body: string) => Number(/\[#(\d+)\]/.exec(body)?.[1]);
  let values = 0;
  let leaked = 0;
  let persons = 0;
  let personsSent = 0;
  const sentValues = new Map<number, Set<string>>();
  for (const received of gateway.mock.received) {
    const index = indexOf(received.body);
    const sent = new Set<string>();
    for (const { entity, value } of prompts[index]!.values) {
      const reached = received.body.includes(value);
      if (reached) sent.add(value);
      if (entity === 'person') {
        persons += 1;
        if (reached) personsSent += 1;
      } else {
        values += 1;
        if (reached) leaked += 1;
      }
    }
    sentValues.set(index, sent);
  }

  let notRestored = 0;
  for (const [index, answer] of answers) if (answer !== expectedAnswer(prompts[index]!)) notRestored += 1;

  const streams: StreamFinding[] = [];
  let leakedInStream = 0;
  let placeholderTextShown = 0;
  let valuesCut = 0;
  for (const exchange of recorder.exchanges.slice(exchangesBefore)) {
    const index = indexOf(exchange.requestBody);
    const pieces = clientPieces.get(index);
    if (pieces === undefined) continue;
    const prompt = prompts[index]!;
    // Values the gateway masked: those that did not reach the provider and come back restored (secrets are redacted, not restored).
    const masked = prompt.values.filter(({ entity, value }) => entity !== 'secret' && !sentValues.get(index)?.has(value)).map(({ value }) => value);
    const expected = expectedAnswer(prompt);
    const finding = inspectStream(exchange, pieces, expected, masked);
    streams.push(finding);
    if (finding.placeholderTextShown) placeholderTextShown += 1;
    if (finding.valueCut) valuesCut += 1;
    if (finding.placeholderTextShown || finding.valueCut || pieces.join('') !== expected) leakedInStream += 1;
  }
  const cuts = streams.flatMap((stream) => stream.cuts);
  const coverage = cutCoverage(cuts);
  const received = gateway.mock.received.length;
  gateway.mock.reset();
  check(failed === 0, `pii: ${failed} requests failed`);
  check(received === prompts.length - failed, `pii: the provider received ${received} requests for ${prompts.length - failed} answered`);
  check(leaked === 0, `pii: ${leaked} structured values reached the provider`);
  check(leakedInStream === 0, `pii: ${leakedInStream} streamed answers showed a placeholder, a cut value or a wrong restoration`);
  check(notRestored === 0, `pii: ${notRestored} answers did not come back with the originals`);
  return {
    prompts: prompts.length,
    streamed: clientPieces.size,
    failed_requests: failed,
    /** Structured values embedded (emails, phones, cards, IBANs, SSNs, IPs, secrets); names are counted apart. */
    values,
    leaked_to_provider: leaked,
    person_names: persons,
    person_names_sent: personsSent,
    answers_not_restored: notRestored,
    placeholders_streamed: cuts.length,
    /** Placeholders the provider's SSE chunks cut in two or more. */
    stream_chunks_split: cuts.filter((cut) => cut.offsets.length > 0).length,
    split_positions_covered: coverage.covered,
    split_positions_possible: coverage.possible,
    /** Streamed answers in which the client saw placeholder text, a masked value cut across chunks, or a wrong restoration. */
    leaked_in_stream: leakedInStream,
    streams_showing_placeholder_text: placeholderTextShown,
    streams_cutting_a_value: valuesCut,
  };
}

// ---------------------------------------------------------------------------------------------
// Cache false hits and injection

async function measureCacheFalseHits() {
  const measured = await measureFalseHits(SHIPPED_THRESHOLD, CACHE_PAIRS);
  check(measured.sets.every((set) => set.different_pairs > 0), 'cache: a held-out set has no different pairs');
  return {
    threshold: measured.threshold,
    embedder: measured.embedder,
    guard: measured.guard,
    sentences_embedded: measured.sentences,
    embed_seconds: round(measured.embed_seconds, 1),
    sets: measured.sets.map((set) => ({ ...set, false_hit_rate: round(set.false_hit_rate), precision: set.precision === null ? null : round(set.precision) })),
  };
}

async function measureInjection() {
  const measured = await measureInjectionLayer();
  check(measured.positives > 0 && measured.negatives > 0, 'injection: the held-out set is empty');
  return {
    threshold: measured.threshold,
    recall: round(measured.at_threshold.recall),
    false_positive_rate: round(measured.at_threshold.false_positive_rate),
    positives: measured.positives,
    negatives: measured.negatives,
    true_positives: measured.at_threshold.true_positives,
    false_positives: measured.at_threshold.false_positives,
    benign_flagged_rate: round(measured.benign_prompts.flagged / measured.benign_prompts.total),
    benign_flagged: measured.benign_prompts.flagged,
    benign_prompts: measured.benign_prompts.total,
    auc: round(measured.auc),
    scorer: measured.scorer,
    sets: 'deepset prompt-injections test split; hh-rlhf harmless-base test, odd dialogues, human turns',
  };
}

// ---------------------------------------------------------------------------------------------

async function timed<T>(name: string, seconds: Record<string, number>, work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const result = await work();
  seconds[name] = round((performance.now() - started) / 1000, 1);
  process.stdout.write(`${name}: done in ${seconds[name]} s\n`);
  return result;
}

interface Figures {
  token_accounting: Awaited<ReturnType<typeof measureTokenAccounting>>;
  rate_limit_overshoot: Awaited<ReturnType<typeof measureOvershoot>>;
  cache_false_hits: Awaited<ReturnType<typeof measureCacheFalseHits>>;
  pii_leaks: Awaited<ReturnType<typeof measurePiiLeaks>>;
  injection: Awaited<ReturnType<typeof measureInjection>>;
}

function summary(report: Figures): string {
  const accounting = report.token_accounting;
  const race = report.rate_limit_overshoot;
  const pii = report.pii_leaks;
  const injection = report.injection;
  return [
    `token accounting: ${accounting.requests} requests (${accounting.streamed} streamed): provider ${accounting.provider_tokens} tokens, committed ${accounting.committed_tokens}, error ${accounting.absolute_error_tokens} tokens (max relative ${accounting.max_relative_error})`,
    `rate-limit overshoot: ${race.nodes} nodes, limit ${race.limit_tokens}: admitted ${race.runs.map((run) => run.admitted_tokens).join(' / ')} tokens, overshoot ${race.overshoot_tokens} (${race.overshoot_percent} %)`,
    `cache false hits at ${report.cache_false_hits.threshold}: ${report.cache_false_hits.sets.map((set) => `${set.name} ${set.false_hits}/${set.different_pairs} (of ${set.served_hits} served)`).join(', ')}`,
    `pii: ${pii.values} structured values in ${pii.prompts} prompts, ${pii.leaked_to_provider} reached the provider (person names: ${pii.person_names_sent} of ${pii.person_names}); ${pii.stream_chunks_split} placeholders split by chunks (${pii.split_positions_covered}/${pii.split_positions_possible} positions), ${pii.leaked_in_stream} streams leaked`,
    `injection at ${injection.threshold}: recall ${injection.recall} (${injection.true_positives}/${injection.positives}), FPR ${injection.false_positive_rate} (${injection.false_positives}/${injection.negatives}), benign flagged ${injection.benign_flagged}/${injection.benign_prompts}`,
  ].join('\n');
}

async function main(): Promise<void> {
  const started = performance.now();
  const seconds: Record<string, number> = {};
  const redis = await startRedis();
  const recorder = await startRecordingProxy();
  let gateway: Gateway | null = null;
  try {
    gateway = await startGateway({ declarativeConfig: writeKongYml(kongYml(redis.port)), replace: { [RECORDER_ADDRESS]: recorder.url }, pluginServerEnvironment: { AI_LOG_LEVEL: 'warn' } });
    recorder.setUpstream(gateway.mock.url);
    gateway.mock.setMode('echo');
    const live = gateway;
    const tokenAccounting = await timed('token_accounting', seconds, () => measureTokenAccounting(live, recorder, redis));
    const piiLeaks = await timed('pii_leaks', seconds, () => measurePiiLeaks(live, recorder));
    await gateway.stop();
    gateway = null;
    const rateLimitOvershoot = await timed('rate_limit_overshoot', seconds, measureOvershoot);
    const injection = await timed('injection', seconds, measureInjection);
    const cacheFalseHits = await timed('cache_false_hits', seconds, measureCacheFalseHits);
    const report = {
      benchmark: 'correctness: token accounting, rate-limit overshoot across two nodes, semantic-cache false hits, PII leaks, injection detection',
      rerun: 'make build && node dist/bench/correctness.js (CORRECTNESS_REQUESTS, CORRECTNESS_RACE_REQUESTS, CORRECTNESS_RACE_RUNS, CORRECTNESS_PII_PROMPTS, CORRECTNESS_CACHE_PAIRS to change the sizes)',
      token_accounting: tokenAccounting,
      rate_limit_overshoot: rateLimitOvershoot,
      cache_false_hits: cacheFalseHits,
      pii_leaks: piiLeaks,
      injection,
      failures: FAILURES,
      seconds: { ...seconds, total: round((performance.now() - started) / 1000, 1) },
    };
    saveReport('correctness', report);
    process.stdout.write(`${summary(report)}\n`);
  } finally {
    await gateway?.stop();
    await recorder.close();
    await redis.stop();
  }
  if (FAILURES.length > 0) {
    process.stderr.write(`FAILED:\n${FAILURES.map((failure) => `  ${failure}`).join('\n')}\n`);
    process.exitCode = 1;
  } else process.stdout.write(`correctness: all checks held in ${round((performance.now() - started) / 1000, 1)} s\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`correctness benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
