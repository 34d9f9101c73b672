// The counter stores' contract, run against the in-process policy and a real redis-server alike.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LocalPolicy } from '../../plugins/token-limit/policies/local-policy';
import { redisPolicyFor } from '../../plugins/token-limit/policies/redis-policy';
import { closeRedisClients } from '../../plugins/core/redis/redis-client';
import type { LimitPolicy } from '../../plugins/token-limit/policies/limit-policy';
import { tokenLimitConfig } from '../../plugins/token-limit/config';
import { startRedis, type RedisServer } from '../support/redis-server';

const WINDOW_END = Date.now() + 60_000;
const NOW = Date.now();
let sequence = 0;
/** Counter keys unique per test, in one hash slot per test (as the budget groups them). */
const keysFor = (count: number) => {
  sequence += 1;
  return Array.from({ length: count }, (_, index) => `tl:{contract-${sequence}}:limit-${index}:0`);
};

function contract(name: string, policyOf: () => LimitPolicy) {
  describe(`${name} policy`, () => {
    it('admits while there is room, then refuses, naming the counter without room', async () => {
      const policy = policyOf();
      const [key] = keysFor(1);
      const counter = { key: key!, limit: 100, amount: 40, windowEndMs: WINDOW_END };
      assert.deepEqual(await policy.reserve([counter], 'a', 60_000, NOW), { admitted: true, counters: [{ used: 40 }] });
      assert.deepEqual(await policy.reserve([counter], 'b', 60_000, NOW), { admitted: true, counters: [{ used: 80 }] });
      assert.deepEqual(await policy.reserve([counter], 'c', 60_000, NOW), { admitted: false, refused: 0, counters: [{ used: 80 }] });
    });

    it('is all or nothing over the counters it is given', async () => {
      const policy = policyOf();
      const [roomy, full] = keysFor(2);
      await policy.reserve([{ key: full!, limit: 10, amount: 10, windowEndMs: WINDOW_END }], 'fill', 60_000, NOW);
      const outcome = await policy.reserve(
        [
          { key: roomy!, limit: 100, amount: 5, windowEndMs: WINDOW_END },
          { key: full!, limit: 10, amount: 1, windowEndMs: WINDOW_END },
        ],
        'x',
        60_000,
        NOW,
      );
      assert.deepEqual(outcome, { admitted: false, refused: 1, counters: [{ used: 0 }, { used: 10 }] });
      const again = await policy.reserve([{ key: roomy!, limit: 5, amount: 5, windowEndMs: WINDOW_END }], 'y', 60_000, NOW);
      assert.equal(again.admitted, true, 'the refused request reserved nothing on the roomy counter');
    });

    it('settle replaces the reservation by the actual amount, once', async () => {
      const policy = policyOf();
      const [key] = keysFor(1);
      await policy.reserve([{ key: key!, limit: 100, amount: 60, windowEndMs: WINDOW_END }], 'r', 60_000, NOW);
      await policy.settle([{ key: key!, actual: 25, windowEndMs: WINDOW_END }], 'r', NOW);
      await policy.settle([{ key: key!, actual: 0, windowEndMs: WINDOW_END }], 'r', NOW); // a second settle adds nothing
      const probe = await policy.reserve([{ key: key!, limit: 100, amount: 75, windowEndMs: WINDOW_END }], 'p', 60_000, NOW);
      assert.deepEqual(probe, { admitted: true, counters: [{ used: 100 }] });
    });

    it('a reservation past its ttl stops counting (a node died before settling)', async () => {
      const policy = policyOf();
      const [key] = keysFor(1);
      await policy.reserve([{ key: key!, limit: 100, amount: 90, windowEndMs: WINDOW_END }], 'dead', 1_000, NOW);
      assert.equal((await policy.reserve([{ key: key!, limit: 100, amount: 20, windowEndMs: WINDOW_END }], 'early', 60_000, NOW + 500)).admitted, false);
      const late = await policy.reserve([{ key: key!, limit: 100, amount: 20, windowEndMs: WINDOW_END }], 'late', 60_000, NOW + 1_001);
      assert.deepEqual(late, { admitted: true, counters: [{ used: 20 }] });
      // Settling the expired reservation still commits what was used.
      await policy.settle([{ key: key!, actual: 30, windowEndMs: WINDOW_END }], 'dead', NOW + 1_002);
      assert.equal((await policy.reserve([{ key: key!, limit: 100, amount: 51, windowEndMs: WINDOW_END }], 'over', 60_000, NOW + 1_003)).admitted, false);
    });

    it('a zero amount (unknown price) is admitted only while the budget is not spent', async () => {
      const policy = policyOf();
      const [key] = keysFor(1);
      assert.equal((await policy.reserve([{ key: key!, limit: 10, amount: 0, windowEndMs: WINDOW_END }], 'z1', 60_000, NOW)).admitted, true);
      await policy.reserve([{ key: key!, limit: 10, amount: 10, windowEndMs: WINDOW_END }], 'fill', 60_000, NOW);
      assert.equal((await policy.reserve([{ key: key!, limit: 10, amount: 0, windowEndMs: WINDOW_END }], 'z2', 60_000, NOW)).admitted, false);
    });

    it('a zero reservation (a cache hit) settles like any other', async () => {
      const policy = policyOf();
      const [key] = keysFor(1);
      await policy.reserve([{ key: key!, limit: 10, amount: 0, windowEndMs: WINDOW_END }], 'hit', 60_000, NOW);
      await policy.settle([{ key: key!, actual: 4, windowEndMs: WINDOW_END }], 'hit', NOW);
      assert.equal((await policy.reserve([{ key: key!, limit: 10, amount: 7, windowEndMs: WINDOW_END }], 'over', 60_000, NOW)).admitted, false);
      assert.deepEqual(await policy.reserve([{ key: key!, limit: 10, amount: 6, windowEndMs: WINDOW_END }], 'fits', 60_000, NOW), { admitted: true, counters: [{ used: 10 }] });
    });

    it('concurrent reservations never overshoot', async () => {
      const policy = policyOf();
      const [key] = keysFor(1);
      const outcomes = await Promise.all(Array.from({ length: 50 }, (_, index) => policy.reserve([{ key: key!, limit: 1000, amount: 70, windowEndMs: WINDOW_END }], `c${index}`, 60_000, NOW)));
      assert.equal(outcomes.filter((outcome) => outcome.admitted).length, 14); // 14 * 70 = 980 <= 1000 < 15 * 70
    });
  });
}

let redis: RedisServer;
before(async () => {
  redis = await startRedis();
});
after(async () => {
  await closeRedisClients();
  await redis.stop();
});

contract('local', () => new LocalPolicy());
contract('redis', () => redisPolicyFor(tokenLimitConfig.parse({ limits: [{ metric: 'requests', limit: 1, window: 'minute' }], policy: 'redis', redis: { port: redis.port, timeout_ms: 2000 } }).redis!));

describe('redis policy', () => {
  it('counter keys expire one second after their window ends', async () => {
    const policy = redisPolicyFor(tokenLimitConfig.parse({ limits: [{ metric: 'requests', limit: 1, window: 'minute' }], policy: 'redis', redis: { port: redis.port, timeout_ms: 2000 } }).redis!);
    const [key] = keysFor(1);
    const windowEndMs = Date.now() + 5_000;
    await policy.reserve([{ key: key!, limit: 10, amount: 1, windowEndMs }], 'ttl', 60_000, Date.now());
    const expiresAt = await redis.client.pexpiretime(key!);
    assert.equal(expiresAt, windowEndMs + 1000);
  });
});
