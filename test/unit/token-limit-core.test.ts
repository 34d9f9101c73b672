// token-limit's pure core: windows, identities, amounts, estimates, headers, the 429, and the all-or-nothing budget.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { windowBounds } from '../../plugins/token-limit/windows';
import { identitiesFor, type RequestFacts } from '../../plugins/token-limit/identify-request';
import { amountsOf, limitUnits } from '../../plugins/token-limit/usage-amounts';
import { formatDuration, limitExceeded, rateLimitHeaders } from '../../plugins/token-limit/rate-limit-headers';
import { reserveBudget, settleBudget, type BudgetLimit, type LimitState } from '../../plugins/token-limit/budget';
import { estimatePlan, estimateUsage } from '../../plugins/token-limit/estimate-request';
import { LocalPolicy } from '../../plugins/token-limit/policies/local-policy';
import { LastSeenUsage } from '../../plugins/token-limit/soft-limits';
import { tokenLimitConfig, limitName, type LimitConfig } from '../../plugins/token-limit/config';
import type { DispatchPlan, UpstreamAttempt } from '../../plugins/core/context/request-context-store';
import { tokenCounterFor } from '../../plugins/core/tokens/token-counter';
import { countChatPromptTokens, IMAGE_TOKENS_HIGH, IMAGE_TOKENS_LOW } from '../../plugins/core/tokens/count-prompt-tokens';

const limit = (fields: Partial<LimitConfig> & Pick<LimitConfig, 'metric' | 'limit' | 'window'>): LimitConfig =>
  tokenLimitConfig.parse({ limits: [fields] }).limits[0]!;
const budgetLimit = (config: LimitConfig, identity = 'consumer:alice'): BudgetLimit => ({ config, name: limitName(config), units: limitUnits(config), identity });
const facts: RequestFacts = { consumerId: 'c1', credentialId: 'k1', consumerGroups: ['gold', 'beta'], ip: '10.0.0.7', headers: { 'x-team': 'search' }, routeId: 'r1', serviceId: 's1' };

describe('windows', () => {
  it('are fixed and aligned to UTC, a month being a calendar month', () => {
    const now = Date.UTC(2026, 1, 14, 10, 30, 15, 500); // 14 Feb 2026 10:30:15.500
    assert.deepEqual(windowBounds('second', now), { startMs: Date.UTC(2026, 1, 14, 10, 30, 15), endMs: Date.UTC(2026, 1, 14, 10, 30, 16) });
    assert.deepEqual(windowBounds('minute', now), { startMs: Date.UTC(2026, 1, 14, 10, 30), endMs: Date.UTC(2026, 1, 14, 10, 31) });
    assert.deepEqual(windowBounds('day', now), { startMs: Date.UTC(2026, 1, 14), endMs: Date.UTC(2026, 1, 15) });
    assert.deepEqual(windowBounds('month', now), { startMs: Date.UTC(2026, 1, 1), endMs: Date.UTC(2026, 2, 1) });
    assert.deepEqual(windowBounds('month', Date.UTC(2026, 11, 31, 23)), { startMs: Date.UTC(2026, 11, 1), endMs: Date.UTC(2027, 0, 1) });
  });
});

describe('identities', () => {
  it('key by each kind, every group of the consumer, and fall back to the IP', () => {
    assert.deepEqual(identitiesFor(limit({ metric: 'requests', limit: 1, window: 'minute' }), facts), ['consumer:c1']);
    assert.deepEqual(identitiesFor(limit({ metric: 'requests', limit: 1, window: 'minute', key_by: 'consumer_group' }), facts), ['consumer_group:beta', 'consumer_group:gold']);
    assert.deepEqual(identitiesFor(limit({ metric: 'requests', limit: 1, window: 'minute', key_by: 'header', header_name: 'X-Team' }), facts), ['header:search']);
    assert.deepEqual(identitiesFor(limit({ metric: 'requests', limit: 1, window: 'minute', key_by: 'service' }), facts), ['service:s1']);
    const anonymous = { ...facts, consumerId: null, headers: {} };
    assert.deepEqual(identitiesFor(limit({ metric: 'requests', limit: 1, window: 'minute' }), anonymous), ['ip:10.0.0.7']);
    assert.deepEqual(identitiesFor(limit({ metric: 'requests', limit: 1, window: 'minute', key_by: 'header', header_name: 'x-team' }), anonymous), ['ip:10.0.0.7']);
  });
});

describe('amounts', () => {
  it('count cost in micro-USD, rounding a reservation up', () => {
    assert.deepEqual(amountsOf({ inputTokens: 10, outputTokens: 5, costUsd: 0.0000015 }, 1), { requests: 1, input_tokens: 10, output_tokens: 5, total_tokens: 15, cost_usd: 2 });
    assert.equal(amountsOf({ inputTokens: 1, outputTokens: 1, costUsd: 0.25 }, 1).cost_usd, 250_000);
    assert.equal(amountsOf({ inputTokens: 1, outputTokens: 1, costUsd: null }, 1).cost_usd, 0);
    assert.equal(limitUnits(limit({ metric: 'cost_usd', limit: 5, window: 'day' })), 5_000_000);
  });
});

describe('headers and the 429', () => {
  it('formats durations as OpenAI does (Go durations)', () => {
    assert.equal(formatDuration(20), '20ms');
    assert.equal(formatDuration(1500), '1.5s');
    assert.equal(formatDuration(360_000), '6m0s');
    assert.equal(formatDuration(93_784_000), '26h3m4s');
  });

  it('report per category the limit with the least room', () => {
    const now = 1_000_000;
    const state = (config: LimitConfig, used: number, resetAtMs: number): LimitState => ({ limit: budgetLimit(config), used, requested: 0, resetAtMs });
    const headers = rateLimitHeaders(
      [
        state(limit({ metric: 'total_tokens', limit: 1000, window: 'minute' }), 100, now + 30_000),
        state(limit({ metric: 'output_tokens', limit: 500, window: 'hour' }), 450, now + 600_000),
        state(limit({ metric: 'requests', limit: 10, window: 'second' }), 3, now + 250),
        state(limit({ metric: 'cost_usd', limit: 5, window: 'day' }), 1_250_000, now + 3_600_000),
      ],
      now,
    );
    assert.deepEqual(headers, {
      'x-ratelimit-limit-tokens': '500',
      'x-ratelimit-remaining-tokens': '50',
      'x-ratelimit-reset-tokens': '10m0s',
      'x-ratelimit-limit-requests': '10',
      'x-ratelimit-remaining-requests': '7',
      'x-ratelimit-reset-requests': '250ms',
      'x-ratelimit-limit-cost-usd': '5',
      'x-ratelimit-remaining-cost-usd': '3.75',
      'x-ratelimit-reset-cost-usd': '1h0m0s',
    });
  });

  it('a refusal says when to retry; a request larger than the limit says not to', () => {
    const config = limit({ metric: 'total_tokens', limit: 1000, window: 'minute' });
    const waiting = limitExceeded({ limit: budgetLimit(config), used: 900, requested: 200, resetAtMs: 12_345 }, {}, 10_000);
    assert.equal(waiting.status, 429);
    assert.deepEqual(waiting.toBody().error.type, 'tokens');
    assert.equal(waiting.toBody().error.code, 'rate_limit_exceeded');
    assert.equal(waiting.headers['retry-after'], '3');
    assert.equal(waiting.headers['retry-after-ms'], '2345');
    assert.match(waiting.message, /total tokens per minute, by consumer\): limit 1000, used 900, requested 200/);
    const hopeless = limitExceeded({ limit: budgetLimit(config), used: 0, requested: 5000, resetAtMs: 12_345 }, {}, 10_000);
    assert.equal(hopeless.headers['x-should-retry'], 'false');
    assert.equal(hopeless.headers['retry-after'], undefined);
    assert.match(hopeless.message, /Request too large/);
  });
});

describe('budget', () => {
  const options = (nowMs: number) => ({ namespace: 'test', nowMs, ttlMs: 60_000 });

  it('refuses when any identity is out of room and releases what the others reserved', async () => {
    const policy = new LocalPolicy();
    const perConsumer = limit({ metric: 'total_tokens', limit: 1000, window: 'minute' });
    const perRoute = limit({ metric: 'total_tokens', limit: 150, window: 'minute', key_by: 'route' });
    const limits = [budgetLimit(perConsumer, 'consumer:alice'), budgetLimit(perRoute, 'route:r1')];
    const amounts = amountsOf({ inputTokens: 60, outputTokens: 40, costUsd: null }, 1);
    const now = Date.now();
    const first = await reserveBudget(policy, limits, amounts, options(now));
    assert.equal(first.admitted, true);
    const second = await reserveBudget(policy, limits, amounts, options(now));
    assert.equal(second.admitted, false);
    assert.equal(!second.admitted && second.refused.limit.identity, 'route:r1');
    await new Promise((resolve) => setImmediate(resolve)); // the release is not awaited by the refusal
    // Only the first request's 100 is held on the consumer: 900 more fit.
    const probe = await reserveBudget(policy, [limits[0]!], amountsOf({ inputTokens: 900, outputTokens: 0, costUsd: null }, 1), options(now));
    assert.equal(probe.admitted, true);
  });

  it('when the store fails for one key, releases every key, the failed one included (its script may have run)', async () => {
    const released: string[] = [];
    const policy = {
      reserve: async (counters: Array<{ key: string }>) => {
        if (counters[0]!.key.includes('route')) throw new Error('Command timed out');
        return { admitted: true as const, counters: counters.map(() => ({ used: 1 })) };
      },
      settle: async (counters: Array<{ key: string; actual: number }>) => void released.push(...counters.map((counter) => `${counter.key.includes('route') ? 'route' : 'consumer'}=${counter.actual}`)),
    };
    const perConsumer = budgetLimit(limit({ metric: 'requests', limit: 10, window: 'minute' }), 'consumer:alice');
    const perRoute = { ...budgetLimit(limit({ name: 'route', metric: 'requests', limit: 10, window: 'minute', key_by: 'route' }), 'route:r1') };
    await assert.rejects(reserveBudget(policy, [perConsumer, perRoute], amountsOf({ inputTokens: 1, outputTokens: 1, costUsd: null }, 1), options(Date.now())), /timed out/);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(released.sort(), ['consumer=0', 'route=0']);
  });

  it('settles each metric to what was used', async () => {
    const policy = new LocalPolicy();
    const tokens = budgetLimit(limit({ metric: 'output_tokens', limit: 100, window: 'minute' }));
    const requests = budgetLimit(limit({ metric: 'requests', limit: 2, window: 'minute' }));
    const now = Date.now();
    const decision = await reserveBudget(policy, [tokens, requests], amountsOf({ inputTokens: 10, outputTokens: 80, costUsd: null }, 1), options(now));
    assert.ok(decision.admitted);
    await settleBudget(policy, decision.reservation, amountsOf({ inputTokens: 10, outputTokens: 30, costUsd: null }, 1), now);
    const next = await reserveBudget(policy, [tokens, requests], amountsOf({ inputTokens: 0, outputTokens: 70, costUsd: null }, 1), options(now));
    assert.ok(next.admitted);
    assert.deepEqual(next.states.map((state) => state.used), [100, 2]);
  });
});

describe('soft limits', () => {
  it('are reached from the last usage seen for the key in the current window', () => {
    const seen = new LastSeenUsage();
    const soft = budgetLimit(limit({ name: 'spend', metric: 'cost_usd', limit: 5, soft_limit: 4, window: 'day' }));
    const hard = budgetLimit(limit({ metric: 'requests', limit: 10, window: 'minute' }));
    const now = 1_000_000;
    assert.equal(seen.reachedSoftLimit('ns', [soft, hard], now), null);
    seen.record('ns', [{ limit: soft, used: 3_999_999, requested: 0, resetAtMs: now + 1000 }]);
    assert.equal(seen.reachedSoftLimit('ns', [soft, hard], now), null);
    seen.record('ns', [{ limit: soft, used: 4_000_000, requested: 0, resetAtMs: now + 1000 }]);
    assert.equal(seen.reachedSoftLimit('ns', [soft, hard], now), 'spend');
    assert.equal(seen.reachedSoftLimit('other-namespace', [soft], now), null);
    assert.equal(seen.reachedSoftLimit('ns', [{ ...soft, identity: 'consumer:bob' }], now), null);
    assert.equal(seen.reachedSoftLimit('ns', [soft], now + 1000), null, 'a new window starts below it');
  });
});

describe('estimates', () => {
  const attempt = (provider: string, model: string, maxOutputTokens: number | null, price: UpstreamAttempt['price'] = null): UpstreamAttempt => ({
    targetKey: `k/${model}`,
    targetName: model,
    provider,
    wireFormat: 'openai',
    model,
    url: 'http://127.0.0.1:9/v1/chat/completions',
    headers: {},
    body: '',
    timeoutMs: 1000,
    price,
    maxOutputTokens,
  });
  const request = { model: 'gpt-4o', messages: [{ role: 'system' as const, content: 'You are terse.' }, { role: 'user' as const, content: 'Say hello to the world.' }] };
  const plan = (attempts: UpstreamAttempt[]): DispatchPlan => ({
    operation: 'chat',
    request,
    attempts,
    retry: { retryOn: new Set(), retryOnStatus: new Set(), maxAttempts: 1, backoffInitialMs: 1, backoffMaxMs: 1, deadlineMs: 1000, circuitBreaker: { failureThreshold: 1, openMs: 1 } },
    stream: false,
    clientFormat: 'openai',
    clientWantsUsage: false,
    routing: 'test',
    labels: { route: 'r' },
  });

  it('counts an OpenAI chat prompt with the cookbook framing (3 per message + 3), exactly', () => {
    const counter = tokenCounterFor('openai', 'gpt-4o');
    const expected = 3 + counter.count('system') + counter.count('You are terse.') + 3 + counter.count('user') + counter.count('Say hello to the world.') + 3;
    assert.equal(countChatPromptTokens(request, counter), expected);
    assert.equal(counter.estimate, null);
    assert.equal(tokenCounterFor('openai', 'gpt-4-0613').family, 'cl100k_base');
    assert.notEqual(tokenCounterFor('anthropic', 'claude-sonnet-4-5').estimate, null);
  });

  it('counts images by detail, and treats special-token text as text', () => {
    const counter = tokenCounterFor('openai', 'gpt-4o');
    const withImages = {
      messages: [
        {
          role: 'user' as const,
          content: [
            { type: 'text', text: 'What is <|endoftext|> here?' },
            { type: 'image_url', image_url: { url: 'https://example.com/a.png' } },
            { type: 'image_url', image_url: { url: 'https://example.com/b.png', detail: 'low' } },
          ],
        },
      ],
    };
    const textOnly = countChatPromptTokens({ messages: [{ role: 'user', content: 'What is <|endoftext|> here?' }] }, counter);
    assert.equal(countChatPromptTokens(withImages, counter), textOnly + IMAGE_TOKENS_HIGH + IMAGE_TOKENS_LOW);
  });

  it('reserves the most any candidate target could use', () => {
    const cheap = { input: 0.15, output: 0.6 };
    const dear = { input: 3, output: 15 };
    const estimate = estimatePlan(plan([attempt('openai', 'gpt-4o-mini', 100, cheap), attempt('anthropic', 'claude-sonnet-4-5', 2000, dear)]), 4096);
    const openAICount = countChatPromptTokens(request, tokenCounterFor('openai', 'gpt-4o'));
    const claudeCount = countChatPromptTokens(request, tokenCounterFor('anthropic', 'claude-sonnet-4-5'));
    assert.equal(estimate.inputTokens, Math.max(claudeCount, openAICount));
    assert.equal(estimate.outputTokens, 2000);
    assert.equal(estimate.exact, false);
    const cheapest = Math.round(((openAICount * 0.15 + 100 * 0.6) / 1e6) * 1e6) / 1e6;
    const dearest = Math.round(((claudeCount * 3 + 2000 * 15) / 1e6) * 1e6) / 1e6;
    assert.equal(estimate.costUsd, Math.max(cheapest, dearest));
    assert.equal(estimatePlan(plan([attempt('openai', 'gpt-4o', null)]), 4096).outputTokens, 4096);
    assert.equal(estimatePlan(plan([attempt('openai', 'gpt-4o', null)]), 4096).costUsd, null);
  });

  it('estimates usage from the streamed text when the provider never reported it', () => {
    const served = { provider: 'openai', model: 'gpt-4o', price: { input: 2.5, output: 10 } };
    const counter = tokenCounterFor('openai', 'gpt-4o');
    const { usage, costUsd } = estimateUsage(plan([attempt('openai', 'gpt-4o', null)]), served, 'Hello, world!', true);
    assert.equal(usage.input_tokens, countChatPromptTokens(request, counter));
    assert.equal(usage.output_tokens, counter.count('Hello, world!'));
    assert.ok(costUsd !== null && costUsd > 0);
    assert.equal(estimateUsage(plan([attempt('openai', 'gpt-4o', null)]), served, '', false).usage.total_tokens, 0);
  });
});
