// The soak's short version (make soak runs it for 10 minutes): mixed traffic, only intended outcomes, nothing grows.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runSoak } from '../../bench/soak';

const SECONDS = Number(process.env.SOAK_TEST_SECONDS ?? 30);

describe('soak (short)', () => {
  it(`${SECONDS} s of mixed traffic: every outcome intended, memory and descriptors flat, no context left`, async () => {
    const report = await runSoak({ seconds: SECONDS, ratePerSecond: 20, sampleEverySeconds: 3 });
    process.stdout.write(`# ${JSON.stringify({ outcomes: report.outcomes, rss_growth_mib: report.rss_growth_mib, heap_growth_mib: report.heap_growth_mib, fd_growth: report.fd_growth, samples: report.samples.length })}\n`);
    assert.deepEqual(report.unexpected_examples, []);
    assert.equal(report.unexpected, 0);
    // Each kind of the mix really happened as intended.
    for (const outcome of ['plain 200', 'cache hit 200 Hit', 'stream 200', 'blocked 400', 'budget 429', 'pii 200']) assert.ok((report.outcomes[outcome] ?? 0) > 0, `no "${outcome}" in ${JSON.stringify(report.outcomes)}`);
    assert.equal(report.contexts_left, 0);
    assert.ok(report.samples.length >= 8, `${report.samples.length} samples`);
    // Retained heap (after a forced collection) and descriptors: flat within noise.
    assert.ok(report.heap_growth_mib <= 8, `heap grew ${report.heap_growth_mib} MiB`);
    assert.ok(report.fd_growth <= 10, `open descriptors grew by ${report.fd_growth}`);
  });
});
