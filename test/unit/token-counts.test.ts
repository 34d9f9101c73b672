// Prompt counts against what providers reported for recorded requests: OpenAI's must be exact.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { asOpenAIRequest, loadRecordedUsage } from '../../eval/token-counts';
import { countChatPromptTokens } from '../../plugins/core/tokens/count-prompt-tokens';
import { tokenCounterFor } from '../../plugins/core/tokens/token-counter';

describe('prompt token counts', () => {
  const entries = loadRecordedUsage();

  it('equal the prompt_tokens OpenAI reported, for every recorded plain gpt-4o / gpt-4.1 request', () => {
    const plain = entries.filter((entry) => entry.provider === 'openai' && !entry.tools_present && (entry.flags ?? []).length === 0);
    assert.ok(plain.length >= 80, `${plain.length} entries`);
    for (const entry of plain) {
      const counted = countChatPromptTokens(asOpenAIRequest(entry), tokenCounterFor('openai', entry.model));
      assert.equal(counted, entry.reported_input_tokens, `${entry.model}: ${JSON.stringify(entry.messages).slice(0, 80)}`);
    }
  });

  it('estimate other providers from the same text (make eval reports the error)', () => {
    const entry = entries.find((candidate) => candidate.provider === 'anthropic' && !candidate.tools_present)!;
    const estimate = countChatPromptTokens(asOpenAIRequest(entry), tokenCounterFor('anthropic', entry.model));
    assert.ok(estimate > 0 && Math.abs(estimate - entry.reported_input_tokens) / entry.reported_input_tokens < 0.5);
  });
});
