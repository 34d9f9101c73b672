// The benchmark report's pure parts: tables from result JSON, "not measured" for what is missing, SVG charts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  describeMachine,
  formatNumber,
  label,
  latencyChart,
  markdownTable,
  provenance,
  readResults,
  renderCorrectness,
  renderObject,
  renderReport,
  signedMilliseconds,
  soakChart,
  type JsonObject,
  type ReportInput,
} from '../../bench/report';
import { chartSvg, escapeXml, linearTicks, logTicks } from '../../bench/svg-chart';
import { DISTRIBUTION_PERCENTILES, distribution, formatJson } from '../../bench/load';

const MACHINE = { cpus: 2, cpu_model: 'AMD EPYC', memory_gib: 24, node: 'v20.20.2' };
const loadResult = (p50: number, p99: number) => ({ requests: 100, errors: 0, p50_ms: p50, p90_ms: p50 + 1, p99_ms: p99, distribution_ms: DISTRIBUTION_PERCENTILES.map((point) => Math.round(p50 * (1 + point / 100) * 100) / 100) });

function latencyJson(): JsonObject {
  const scenario = (name: string, baseline: string | null, p50: number, p99: number, extra: JsonObject = {}) => ({ name, path: `path of ${name}`, baseline, ...loadResult(p50, p99), ...extra });
  return {
    benchmark: 'latency',
    rerun: 'make bench',
    rate_per_second: 50,
    duration_seconds: 10,
    portkey_version: '1.15.2',
    distribution_percentiles: [...DISTRIBUTION_PERCENTILES],
    scenarios: [
      scenario('mock-direct', null, 1.11, 2.22, { added_p50_ms: null, added_p99_ms: null, cpu_ms_per_request: null }),
      scenario('portkey', 'mock-direct', 3.33, 9.99, { added_p50_ms: 2.22, added_p99_ms: 7.77, cpu_ms_per_request: 2.5, cpu_process: 'portkey gateway' }),
      scenario('stand-in-direct', null, 1.5, 3, { added_p50_ms: null, added_p99_ms: null, cpu_ms_per_request: 0 }),
      scenario('llm-proxy', 'stand-in-direct', 3.5, 8, { added_p50_ms: 2, added_p99_ms: 5, cpu_ms_per_request: 2, cpu_process: 'plugin server', rpc_calls_per_request: 7 }),
      scenario('pii-redact', 'stand-in-direct', 4.25, 7, { added_p50_ms: 2.75, added_p99_ms: 4, over_llm_proxy: { added_p50_ms: 0.75, added_p99_ms: -1 }, cpu_ms_per_request: 2.4 }),
      scenario('semantic-cache', 'stand-in-direct', 20, 40, { added_p50_ms: 18.5, added_p99_ms: 37, header_counts: { Miss: 100 }, over_llm_proxy: { added_p50_ms: 16.5, added_p99_ms: 32 } }),
    ],
    ratio_ours_to_portkey: { added_p50: 0.9, added_p99: 0.64, cpu_per_request: 0.8 },
    machine: MACHINE,
    measured_at: '2026-11-22T09:32:30.912Z',
  };
}

const input = (results: Record<string, JsonObject>, charts: ReportInput['charts'] = {}): ReportInput => ({ results, charts, resultsLabel: 'bench/results' });

describe('benchmark report: formatting', () => {
  it('formats numbers as the JSON has them, signs added latencies, and labels fields with their units', () => {
    assert.equal(formatNumber(3.42), '3.42');
    assert.equal(formatNumber(100000), '100,000');
    assert.equal(formatNumber(2000), '2000');
    assert.equal(formatNumber(Number.NaN), '–');
    assert.equal(signedMilliseconds(1.5), '+1.5 ms');
    assert.equal(signedMilliseconds(-0.29), '-0.29 ms');
    assert.equal(signedMilliseconds(null), '–');
    assert.equal(label('p50_ms'), 'p50 (ms)');
    assert.equal(label('all_entities_mb_per_s'), 'all entities (MB/s)');
    assert.equal(label('rss_growth_mib'), 'rss growth (MiB)');
    assert.equal(label('plugin_server_rss_mib_before'), 'plugin server rss (MiB) before');
    assert.equal(label('t_s'), 't (s)');
    assert.equal(label('overshoot_percent'), 'overshoot (%)');
  });

  it('builds Markdown tables and escapes pipes in cells', () => {
    assert.equal(markdownTable(['a', 'b'], [['1', '2']]), '| a | b |\n| --- | --- |\n| 1 | 2 |');
    assert.ok(renderObject({ note: 'a | b' }).join('\n').includes('a \\| b'));
  });

  it('describes a machine from what was recorded, and says when nothing was', () => {
    assert.equal(describeMachine(MACHINE), '2 CPUs (AMD EPYC), 24 GiB RAM, Node v20.20.2');
    assert.equal(describeMachine(undefined), 'an unrecorded machine');
    const line = provenance('latency', latencyJson(), 'bench/results', 'run.js');
    for (const part of ['2026-11-22 09:32 UTC', '2 CPUs (AMD EPYC)', '50 requests/s for 10 s', '`bench/results/latency.json`', '`make build && node dist/bench/run.js`']) assert.ok(line.includes(part), part);
  });

  it('keeps arrays of numbers on one line in the saved JSON', () => {
    assert.equal(formatJson({ a: [1, 2.5, null], b: { c: 'x' } }), '{\n  "a": [1, 2.5, null],\n  "b": {\n    "c": "x"\n  }\n}');
    assert.deepEqual(JSON.parse(formatJson({ a: [1, -2e-7, 3] })), { a: [1, -2e-7, 3] });
  });

  it('summarises latencies at 1..99 and 99.9', () => {
    const latencies = Array.from({ length: 1000 }, (_, index) => index + 1);
    const points = distribution(latencies);
    assert.equal(points.length, 100);
    assert.equal(points[0], 11);
    assert.equal(points[49], 501);
    assert.equal(points[99], 1000);
  });
});

describe('benchmark report: generic results', () => {
  it('puts load results side by side in one table and leaves distributions to the JSON', () => {
    const text = renderObject({ results: { direct: loadResult(1, 2), chain: { ...loadResult(3, 4), redis_round_trips_per_request: 2 } } }).join('\n\n');
    assert.ok(text.includes('| | requests | errors | p50 (ms) | p90 (ms) | p99 (ms) | redis round trips per request |'.replace('| |', '|  |')));
    assert.ok(text.includes('| direct | 100 | 0 | 1 | 2 | 2 | – |'));
    assert.ok(text.includes('| chain | 100 | 0 | 3 | 4 | 4 | 2 |'));
    assert.ok(!text.includes('distribution'));
  });

  it('gives unlike records tables of their own, arrays of rows a table, and long arrays a pointer to the JSON', () => {
    const text = renderObject({
      throughput: { prompt_kb: 100, all_entities_ms: 40.2 },
      restore: { plain_chunk_us: 2.22 },
      sets: [{ name: 'a', false_hits: 0 }, { name: 'b', false_hits: 1 }],
      samples: Array.from({ length: 40 }, (_, second) => ({ t_s: second, rss_mib: 100 })),
    }).join('\n\n');
    assert.ok(text.includes('**throughput**\n\n|  | value |'));
    assert.ok(text.includes('| all entities (ms) | 40.2 |'));
    assert.ok(text.includes('**restore**'));
    assert.ok(text.includes('| name | false hits |\n| --- | --- |\n| a | 0 |\n| b | 1 |'));
    assert.ok(text.includes('**samples**: 40 rows, in the JSON.'));
  });

  it('renders correctness.json by its parts, whatever fields are missing or new', () => {
    const text = renderCorrectness({
      token_accounting: { requests: 500, streamed: 250, absolute_error_tokens: 0, prompt_estimate: { mean_relative_error: 0.01 } },
      cache_false_hits: { threshold: 0.93, sets: [{ name: 'paraphrase', different_pairs: 400, false_hits: 3, false_hit_rate: 0.0075 }] },
      injection: { recall: 0.91 },
      something_new: { value: 42 },
    }).join('\n\n');
    assert.ok(text.includes('### token accounting\n\nTokens token-limit committed against the usage the provider reported:'));
    assert.ok(text.includes('| absolute error tokens | 0 |'));
    assert.ok(text.includes('**prompt estimate**\n\n|  | value |\n| --- | --- |\n| mean relative error | 0.01 |'));
    assert.ok(text.includes('| paraphrase | 400 | 3 | 0.0075 |'));
    assert.ok(text.includes('| recall | 0.91 |'));
    assert.ok(text.includes('### other figures\n\n**something new**'));
    assert.ok(!text.includes('rate limit overshoot'), 'an absent part is not invented');
  });
});

describe('benchmark report: the whole document', () => {
  it('says every section is not measured, with its command, when there are no results', () => {
    const text = renderReport(input({}));
    assert.ok(text.startsWith('# Benchmarks\n\nGenerated by `make report`'));
    assert.ok(text.includes('No result files were found in `bench/results`.'));
    for (const script of ['run', 'streams', 'semantic-cache', 'token-limit', 'pii-redact', 'prompt-guard', 'correctness', 'soak']) {
      assert.ok(text.includes(`Not measured in this run: run \`make build && node dist/bench/${script}.js\``), script);
    }
    assert.doesNotMatch(text, /\d+(\.\d+)? ms/, 'no number without a result');
  });

  it('renders the latency tables from latency.json: every scenario, each policy over llm-proxy, and Portkey', () => {
    const text = renderReport(input({ latency: latencyJson() }, { latency: 'bench/results/latency.svg' }));
    assert.ok(text.includes('| **portkey** | 3.33 ms | 9.99 ms | 6.66 ms | +2.22 ms | +7.77 ms | mock-direct | 2.5 ms (portkey gateway) | – | 100 (0) |'));
    assert.ok(text.includes('| **mock-direct** | 1.11 ms | 2.22 ms |'));
    assert.ok(text.includes('| **pii-redact** | +0.75 ms | -1 ms | +0.4 ms |'));
    assert.ok(text.includes('| **semantic-cache** | +16.5 ms | +32 ms | – |'));
    assert.ok(text.includes('| **Portkey** 1.15.2 | mock-direct | +2.22 ms | +7.77 ms | 2.5 ms |'));
    assert.ok(text.includes('| ratio, ours / Portkey |  | 0.9 | 0.64 | 0.8 |'));
    assert.ok(text.includes('x-cache-status of the measured responses: Miss: 100'));
    assert.ok(text.includes('](bench/results/latency.svg)'));
    assert.ok(text.includes('| `latency.json` | 2026-11-22 09:32 UTC | 2 CPUs (AMD EPYC), 24 GiB RAM, Node v20.20.2 |'));
    assert.ok(!renderReport(input({ latency: latencyJson() })).includes('.svg)'), 'no link to a chart that was not written');
  });

  it('renders streaming time to first token from streams.json, and the streams held at once', () => {
    const streams = {
      ttft: { direct: { streams: 300, p50_ms: 1.36, p99_ms: 4.64, errors: 0 }, all_five_plugins: { streams: 300, p50_ms: 9.5, p99_ms: 20.25, errors: 0, x_cache_status: { Miss: 300 } }, overhead_p50_ms: 8.14, overhead_p99_ms: 15.61 },
      concurrent_streams: { streams: 1000, completed: 1000, contexts_left: 0 },
      machine: MACHINE,
      measured_at: '2026-11-22T10:00:00Z',
    };
    const text = renderReport(input({ streams }));
    assert.ok(text.includes('| stand-in → mock (direct) | 300 | 1.36 ms | 4.64 ms | 0 | – |'));
    assert.ok(text.includes("(the repo's kong.yml) → mock | 300 | 9.5 ms | 20.25 ms | 0 | Miss: 300 |"));
    assert.ok(text.includes('| overhead of the chain |  | +8.14 ms | +15.61 ms |  |  |'));
    assert.ok(text.includes('| contexts left | 0 |'));
    assert.ok(text.includes('Rerun: `make build && node dist/bench/streams.js`'));
  });

  it('shows files no section knows, as they are', () => {
    const text = renderReport(input({ foundation: { benchmark: 'old one', results: { direct: loadResult(1, 2) }, measured_at: '2026-01-01T00:00:00Z' } }));
    assert.ok(text.includes('## Other result files'));
    assert.ok(text.includes('### foundation.json\n\nold one'));
    assert.ok(text.includes('**results › direct**\n\n|  | value |'));
    assert.ok(text.includes('| p50 (ms) | 1 |'));
  });

  it('reads every JSON file of the results folder, and names a broken one', () => {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-results-'));
    try {
      fs.writeFileSync(path.join(directory, 'latency.json'), JSON.stringify(latencyJson()));
      fs.writeFileSync(path.join(directory, 'latency.svg'), '<svg/>');
      assert.deepEqual(Object.keys(readResults(directory)), ['latency']);
      fs.writeFileSync(path.join(directory, 'broken.json'), '{');
      assert.throws(() => readResults(directory), /broken\.json is not JSON/);
    } finally {
      fs.rmSync(directory, { recursive: true, force: true });
    }
  });
});

describe('benchmark report: SVG charts', () => {
  it('picks round ticks on log and linear axes', () => {
    assert.deepEqual(logTicks(1.2, 300), [1, 2, 5, 10, 20, 50, 100, 200, 500]);
    assert.deepEqual(logTicks(0.3, 0.9), [0.2, 0.5, 1]);
    assert.deepEqual(linearTicks(0, 100, 5), [0, 20, 40, 60, 80, 100]);
    assert.deepEqual(linearTicks(90, 152), [80, 100, 120, 140, 160]);
  });

  it('draws one path per latency scenario, in a valid-looking document', () => {
    const svg = latencyChart(latencyJson())!;
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.match(svg.trim(), /<\/svg>$/);
    assert.equal(svg.match(/<path /g)?.length, 6);
    assert.ok(svg.includes('<title>semantic-cache</title>'));
    assert.doesNotMatch(svg, /NaN|undefined|Infinity/);
    assert.equal(latencyChart({ scenarios: [] }), null, 'no percentiles, no chart');
  });

  it('charts the soak: memory, then open fds and contexts, over time', () => {
    const samples = Array.from({ length: 10 }, (_, index) => ({ t_s: index * 60, rss_mib: 100 + index, heap_used_mib: 50, open_fds: 30, contexts: 0 }));
    const svg = soakChart({ samples, machine: MACHINE, measured_at: '2026-11-22T10:00:00Z' })!;
    assert.equal(svg.match(/<path /g)?.length, 4);
    assert.ok(svg.includes('open fds'));
    assert.equal(soakChart({ samples: [] }), null);
  });

  it('escapes text and leaves out what a log axis cannot show', () => {
    assert.equal(escapeXml('a < b & "c"'), 'a &lt; b &amp; &quot;c&quot;');
    const svg = chartSvg('t', [{ title: 'p', xLabel: 'x', yLabel: 'y', xScale: 'log', series: [{ name: '<s>', points: [[0, 1], [Number.NaN, 2], [10, 3]] }] }]);
    assert.ok(svg.includes('<title>&lt;s&gt;</title>'));
    assert.doesNotMatch(svg, /NaN|Infinity/);
  });
});
