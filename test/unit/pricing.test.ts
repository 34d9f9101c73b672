// Prices come from the operator or the shipped table, never guessed; cost charges cached tokens at their own price.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { costOf, priceOf } from '../../plugins/core/pricing/price-table';
import shipped from '../../plugins/core/pricing/prices.json';

const usage = { input_tokens: 1_000_000, output_tokens: 500_000, total_tokens: 1_500_000, cached_input_tokens: 400_000, reasoning_tokens: 0 };

describe('pricing', () => {
  it('charges uncached input, cached input and output at their prices', () => {
    assert.equal(costOf(usage, { input: 2.5, output: 10, cached_input: 1.25 }), 0.6 * 2.5 + 0.4 * 1.25 + 0.5 * 10);
    assert.equal(costOf(usage, { input: 3, output: 15 }), 3 + 7.5, 'no cache discount: cached tokens at the input price');
    assert.equal(costOf({ ...usage, input_tokens: 0, cached_input_tokens: 0, output_tokens: 1 }, { input: 0, output: 0.6 }), 0.000001);
  });

  it("prefers the operator's price, then the table under the model's name or the provider's prefix", () => {
    const table = { models: { 'gpt-x': { input: 1, output: 2 }, 'anthropic/claude-y': { input: 3, output: 4, cached_input: 0.3 } } };
    assert.deepEqual(priceOf('openai', 'gpt-x', null, table), { input: 1, output: 2 });
    assert.deepEqual(priceOf('anthropic', 'claude-y', null, table), { input: 3, output: 4, cached_input: 0.3 });
    assert.deepEqual(priceOf('openai', 'gpt-x', { input: 9, output: 9 }, table), { input: 9, output: 9 });
    assert.equal(priceOf('openai', 'unknown-model', null, table), null);
  });

  it('ships a table with a stated source and sane prices', () => {
    const table = shipped as { source?: { repository: string; commit: string }; models: Record<string, { input: number; output: number }> };
    assert.ok(table.source?.repository && table.source.commit, 'the table names its source');
    const entries = Object.values(table.models);
    assert.ok(entries.length > 50);
    for (const entry of entries) assert.ok(entry.input >= 0 && entry.output >= 0 && entry.output < 1000);
    assert.ok(priceOf('openai', 'gpt-4o-mini'), 'a current OpenAI model is priced');
    assert.ok(priceOf('anthropic', 'claude-haiku-4-5'), 'a current Anthropic model is priced');
  });
});
