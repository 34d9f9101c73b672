// Target ordering, retry decisions and the circuit breaker, as pure functions.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { orderTargets, smoothWeightedPick, type TargetView } from '../../plugins/llm-proxy/order-targets';
import { describeRequest, matchComplexityRule } from '../../plugins/llm-proxy/complexity-routing';
import { countChatPromptTokens, IMAGE_TOKENS_HIGH } from '../../plugins/core/tokens/count-prompt-tokens';
import { tokenCounterFor } from '../../plugins/core/tokens/token-counter';
import { backoffDelay, parseRetryAfter, shouldRetryStatus, type RetryPolicy } from '../../plugins/core/routing/retry-policy';
import { admits, beginCall, circuitState, healthOf, recordFailure, recordSuccess, resetTargetHealth } from '../../plugins/core/routing/target-health';

const view = (index: number, overrides: Partial<TargetView> = {}): TargetView => ({ index, priority: 1, weight: 1, inFlight: 0, latencyEwmaMs: null, admitted: true, ...overrides });

describe('orderTargets', () => {
  it('serves the lowest priority group first and keeps higher groups as fallback', () => {
    const { order, decision } = orderTargets([view(0, { priority: 2 }), view(1, { priority: 1 }), view(2, { priority: 3 })], 'least-in-flight', new Map());
    assert.deepEqual(order, [1, 0, 2]);
    assert.equal(decision, 'priority=1;algorithm=least-in-flight');
  });

  it('puts targets kept out by their circuit last in their group, without dropping them', () => {
    const { order } = orderTargets([view(0, { admitted: false }), view(1), view(2, { priority: 2 })], 'least-in-flight', new Map());
    assert.deepEqual(order, [1, 0, 2]);
  });

  it('interleaves weighted round-robin exactly by weight', () => {
    const current: number[] = [];
    const picks = Array.from({ length: 10 }, () => smoothWeightedPick([3, 1, 1], current));
    assert.deepEqual(picks.slice(0, 5).sort(), [0, 0, 0, 1, 2]);
    assert.deepEqual(picks.slice(5).sort(), [0, 0, 0, 1, 2]);
    assert.notDeepEqual(picks.slice(0, 3), [0, 0, 0], 'smooth: the heavy target does not take a burst');
  });

  it('prefers the least busy target, then the unmeasured, then the fastest', () => {
    assert.deepEqual(orderTargets([view(0, { inFlight: 3 }), view(1, { inFlight: 1 })], 'least-in-flight', new Map()).order, [1, 0]);
    assert.deepEqual(orderTargets([view(0, { latencyEwmaMs: 80 }), view(1, { latencyEwmaMs: 20 }), view(2)], 'lowest-latency', new Map()).order, [2, 1, 0]);
  });
});

const policy: RetryPolicy = {
  retryOn: new Set(['rate_limited', 'server_error']),
  retryOnStatus: new Set([404]),
  maxAttempts: 3,
  backoffInitialMs: 100,
  backoffMaxMs: 1000,
  deadlineMs: 10_000,
  circuitBreaker: { failureThreshold: 2, openMs: 1000 },
};

describe('retry policy', () => {
  it('retries the configured conditions and statuses only', () => {
    assert.ok(shouldRetryStatus(policy, 429));
    assert.ok(shouldRetryStatus(policy, 503));
    assert.ok(shouldRetryStatus(policy, 404));
    assert.ok(!shouldRetryStatus(policy, 400));
    assert.ok(!shouldRetryStatus({ ...policy, retryOn: new Set() }, 500));
  });

  it('backs off exponentially with full jitter, capped', () => {
    assert.equal(backoffDelay(policy, 1, 0.999), 99);
    assert.equal(backoffDelay(policy, 3, 0.999), 399);
    assert.equal(backoffDelay(policy, 10, 0.999), 999);
    assert.equal(backoffDelay(policy, 3, 0), 0);
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    assert.equal(parseRetryAfter('7'), 7000);
    assert.equal(parseRetryAfter(new Date(10_000 + 5000).toUTCString(), 10_000), 5000);
    assert.equal(parseRetryAfter(undefined), null);
    assert.equal(parseRetryAfter('soon'), null);
  });
});

describe('circuit breaker', () => {
  it('opens after consecutive failures, admits one probe when half-open, and closes on its success', () => {
    resetTargetHealth();
    const health = healthOf('t');
    recordFailure(health, policy.circuitBreaker, 0);
    assert.equal(circuitState(health, 0), 'closed');
    recordFailure(health, policy.circuitBreaker, 0);
    assert.equal(circuitState(health, 500), 'open');
    assert.ok(!admits(health, 500));
    assert.equal(circuitState(health, 1000), 'half-open');
    assert.ok(admits(health, 1000));
    beginCall(health, 1000);
    assert.ok(!admits(health, 1000), 'only one probe at a time');
    recordSuccess(health, 50);
    assert.equal(circuitState(health, 1000), 'closed');
    assert.equal(health.latencyEwmaMs, 50);
  });

  it('re-opens on a failed probe, and stays away for a Retry-After at once', () => {
    resetTargetHealth();
    const health = healthOf('t');
    recordFailure(health, policy.circuitBreaker, 0, 30_000);
    assert.equal(circuitState(health, 29_000), 'open');
    beginCall(health, 30_000);
    recordFailure(health, policy.circuitBreaker, 30_000);
    assert.equal(circuitState(health, 30_500), 'open');
  });
});

describe('complexity routing', () => {
  it('describes a request by prompt tokens (o200k, framing and image included), tools, images and reasoning effort', () => {
    const request = {
      messages: [{ role: 'user', content: [{ type: 'text', text: 'é'.repeat(10) }, { type: 'image_url', image_url: { url: 'data:image/png;base64,AA' } }] }],
      tools: [{ type: 'function', function: { name: 'f' } }],
      reasoning_effort: 'high',
    } as never;
    const features = describeRequest(request);
    assert.deepEqual(features, { promptTokens: countChatPromptTokens(request, tokenCounterFor('openai', 'gpt-4o')), hasTools: true, hasImages: true, reasoningEffort: 'high' });
    assert.ok(features.promptTokens > IMAGE_TOKENS_HIGH, 'the image counts at its reserved size');
  });

  it('picks the first rule whose every condition holds', () => {
    const rules = [
      { name: 'reasoning', reasoning_effort: ['high'], targets: ['big'] },
      { name: 'vision', images: true, targets: ['vision'] },
      { name: 'short', max_prompt_tokens: 100, tools: false, targets: ['small'] },
    ];
    const base = { promptTokens: 10, hasTools: false, hasImages: false, reasoningEffort: null };
    assert.equal(matchComplexityRule(base, rules)?.name, 'short');
    assert.equal(matchComplexityRule({ ...base, hasImages: true }, rules)?.name, 'vision');
    assert.equal(matchComplexityRule({ ...base, reasoningEffort: 'high', hasImages: true }, rules)?.name, 'reasoning');
    assert.equal(matchComplexityRule({ ...base, promptTokens: 500 }, rules), null);
    assert.equal(matchComplexityRule({ ...base, hasTools: true }, rules), null);
  });
});
