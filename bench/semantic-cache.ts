// `make bench`: semantic-cache's hit latency end to end (exact and by meaning), index lookups at 10k/100k entries, memory.
import { LLM_PROXY_KONG_YML, openLoop, percentile, round, saveReport } from './load';
import { DEMO_API_KEY, DEMO_CONSUMER_YML, startGateway, writeKongYml } from '../test/support/gateway';
import { startRedis } from '../test/support/redis-server';
import { PartitionIndex } from '../plugins/semantic-cache/partition-index';
import { normalize, cosineSimilarity } from '../plugins/core/embeddings/vectors';

const RATE_PER_SECOND = Number(process.env.BENCH_CACHE_RATE ?? 50);
const DURATION_SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const STORED = 'How do I reset my password?';
const PARAPHRASE = 'How can I reset my password?';

const bodyOf = (content: string) => JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }] });

/** Open-loop hits through the stand-in (USE-lite, real Redis), beside llm-proxy alone calling the mock. */
async function hitLatency() {
  const redis = await startRedis();
  const withKeyAuth = LLM_PROXY_KONG_YML.replace('        plugins:\n', '        plugins:\n          - name: key-auth\n').concat(DEMO_CONSUMER_YML);
  const withCache = withKeyAuth.replace(
    '          - name: key-auth\n',
    `          - name: key-auth\n          - name: semantic-cache\n            config: { namespace: bench, redis: { host: 127.0.0.1, port: ${redis.port}, timeout_ms: 200 } }\n`,
  );
  const run = async (yml: string, work: (url: string) => Promise<Record<string, unknown>>) => {
    const gateway = await startGateway({ declarativeConfig: writeKongYml(yml), pluginServerEnvironment: { AI_LOG_LEVEL: 'warn' } });
    try {
      return await work(`${gateway.kong.url}/v1/chat/completions`);
    } finally {
      await gateway.stop();
    }
  };
  try {
    const provider = await run(withKeyAuth, (url) => openLoop(url, bodyOf(STORED), { apikey: DEMO_API_KEY }, RATE_PER_SECOND, DURATION_SECONDS, 50) as unknown as Promise<Record<string, unknown>>);
    const cached = await run(withCache, async (url) => {
      // One miss stores the answer; the fill runs after the response, so wait for it.
      await fetch(url, { method: 'POST', headers: { apikey: DEMO_API_KEY, 'content-type': 'application/json' }, body: bodyOf(STORED) });
      for (let tries = 0; tries < 100 && (await redis.client.keys('sc:{bench:*}:e')).length === 0; tries += 1) await new Promise((resolve) => setTimeout(resolve, 20));
      const probe = await fetch(url, { method: 'POST', headers: { apikey: DEMO_API_KEY, 'content-type': 'application/json' }, body: bodyOf(PARAPHRASE) });
      if (probe.headers.get('x-cache-status') !== 'Semantic-Hit') throw new Error(`the paraphrase was a ${probe.headers.get('x-cache-status')}, not a Semantic-Hit`);
      const exact = await openLoop(url, bodyOf(STORED), { apikey: DEMO_API_KEY }, RATE_PER_SECOND, DURATION_SECONDS, 50);
      const semantic = await openLoop(url, bodyOf(PARAPHRASE), { apikey: DEMO_API_KEY }, RATE_PER_SECOND, DURATION_SECONDS, 50);
      return { exact_hit: exact, semantic_hit: semantic };
    });
    return { 'provider call (llm-proxy, mock answers at once)': provider, ...cached };
  } finally {
    await redis.stop();
  }
}

/** Deterministic pseudo-random unit vectors: a benchmark that can be rerun exactly. */
function randomVectors(count: number, dimensions: number, seed: number): Float32Array[] {
  let state = seed >>> 0;
  const next = () => ((state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0) / 2 ** 32) - 0.5;
  return Array.from({ length: count }, () => normalize(Float32Array.from({ length: dimensions }, next)));
}

/** The usearch HNSW index against an exact scan, at a partition size; queries are stored vectors with noise. */
function indexLookups(entries: number, dimensions: number) {
  const vectors = randomVectors(entries, dimensions, entries);
  const rssBefore = process.memoryUsage().rss;
  const index = new PartitionIndex(entries);
  const buildStarted = performance.now();
  // As a node catching up adds them: in batches, one native call each.
  for (let start = 0; start < entries; start += 1000) {
    index.addMany(vectors.slice(start, start + 1000).map((vector, offset) => ({ entry: { id: `e${start + offset}`, question: `stored question number ${start + offset} of the benchmark`, createdAt: Date.now() }, vector })));
  }
  const buildSeconds = (performance.now() - buildStarted) / 1000;
  const memoryMb = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
  const queries = randomVectors(1000, dimensions, 7).map((noise, position) => normalize(vectors[(position * 7919) % entries]!.map((value, axis) => value + 0.3 * noise[axis]!)));
  const hnsw: number[] = [];
  const exact: number[] = [];
  let agreements = 0;
  for (const [position, query] of queries.entries()) {
    let started = performance.now();
    const found = index.nearest(query, 4, Number.MAX_SAFE_INTEGER);
    hnsw.push(performance.now() - started);
    if (position < 200) {
      // The exact answer, by a scan of every vector (what an index-less cache does).
      started = performance.now();
      let best = -1;
      let bestSimilarity = -2;
      vectors.forEach((vector, candidate) => {
        const similarity = cosineSimilarity(query, vector);
        if (similarity > bestSimilarity) [best, bestSimilarity] = [candidate, similarity];
      });
      exact.push(performance.now() - started);
      if (found[0]?.id === `e${best}`) agreements += 1;
    }
  }
  return {
    entries,
    dimensions,
    build_seconds: round(buildSeconds),
    hnsw_p50_ms: percentile(hnsw, 0.5),
    hnsw_p99_ms: percentile(hnsw, 0.99),
    exact_scan_p50_ms: percentile(exact, 0.5),
    exact_scan_p99_ms: percentile(exact, 0.99),
    hnsw_top1_agrees_with_exact: round(agreements / 200),
    rss_growth_mb: round(memoryMb),
  };
}

async function main(): Promise<void> {
  const lookups = [indexLookups(10_000, 512), indexLookups(100_000, 512), indexLookups(100_000, 384)];
  for (const lookup of lookups) process.stdout.write(`index lookup: ${JSON.stringify(lookup)}\n`);
  const latency = await hitLatency();
  process.stdout.write(`hits end to end, ${RATE_PER_SECOND} req/s: ${JSON.stringify(latency)}\n`);
  saveReport('semantic-cache', {
    benchmark: 'semantic-cache: hit latency end to end (USE-lite, real Redis, stand-in), index lookup at 10k/100k entries, memory per 100k entries',
    rate_per_second: RATE_PER_SECOND,
    duration_seconds: DURATION_SECONDS,
    rerun: 'make bench (BENCH_CACHE_RATE, BENCH_SECONDS to change the load)',
    lookups,
    latency,
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack}\n`);
  process.exitCode = 1;
});
