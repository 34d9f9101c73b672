// Two Kong nodes (two stand-ins, two plugin servers) share one budget in Redis: standalone, Cluster and Sentinel.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type Redis from 'ioredis';
import type { Gateway } from '../support/gateway';
import { startRedis, startRedisCluster, startRedisSentinel } from '../support/redis-server';
import { largestRaceReservation, raceForBudget, startBudgetNodes, storedBudget, type StoredBudget } from '../support/shared-budget';
import { waitFor } from '../support/wait-for';

const LIMIT = 3000;
const MAX_TOKENS = 20;
const REQUESTS = 200;
const BUDGET = { limit: LIMIT, maxTokens: MAX_TOKENS };

interface RaceResult {
  admitted: number;
  refused: number;
  /** Total tokens the provider reported for the admitted requests (what the clients were told). */
  reportedTokens: number;
  /** The largest reservation one request made (prompt + max_tokens). */
  largestReservation: number;
}

/** 200 requests at once, alternating between the two nodes, against one limit. */
async function race(nodes: Gateway[]): Promise<RaceResult> {
  const responses = await raceForBudget(nodes, REQUESTS);
  const admitted = responses.filter((response) => response.status === 200);
  const refused = responses.filter((response) => response.status === 429);
  assert.equal(admitted.length + refused.length, REQUESTS, `statuses: ${[...new Set(responses.map((response) => response.status))].join(',')}`);
  return {
    admitted: admitted.length,
    refused: refused.length,
    reportedTokens: admitted.reduce((sum, response) => sum + (response.totalTokens ?? assert.fail('an admitted answer without usage')), 0),
    largestReservation: largestRaceReservation(BUDGET),
  };
}

function assertBudgetHeld(result: RaceResult, stored: StoredBudget): void {
  assert.ok(result.admitted > 10, `only ${result.admitted} admitted`);
  assert.ok(result.refused > 0, 'the limit was reached');
  // Every node committed exactly what the provider reported, and nothing is left reserved.
  assert.deepEqual(stored, { committed: result.reportedTokens, reserved: 0, reservations: 0 });
  assert.ok(result.reportedTokens <= LIMIT + result.largestReservation, `admitted ${result.reportedTokens} tokens against ${LIMIT}`);
}

/** Where the counters live, as the nodes' kong.yml names it, and the Redis masters that hold them. */
interface SharedRedis {
  yml: string;
  masters: Redis[];
  stop(): Promise<void>;
}

/** Two nodes against one Redis deployment: 200 concurrent requests, one limit. */
function describeSharedBudget(title: string, start: () => Promise<SharedRedis>): void {
  describe(title, () => {
    let redis: SharedRedis;
    let nodes: Gateway[] = [];
    before(async () => {
      redis = await start();
      nodes = await startBudgetNodes(redis.yml, BUDGET);
    });
    after(async () => {
      await Promise.all(nodes.map((node) => node.stop()));
      await redis?.stop();
    });

    it(`${REQUESTS} concurrent requests over two nodes never exceed the limit by more than one reservation`, async (t) => {
      const result = await race(nodes);
      t.diagnostic(`admitted ${result.admitted}, refused ${result.refused}, ${result.reportedTokens} tokens used of ${LIMIT}`);
      const stored = () => storedBudget(redis.masters);
      await waitFor(async () => (await stored()).reserved === 0);
      assertBudgetHeld(result, await stored());
    });
  });
}

describeSharedBudget('token-limit across two nodes sharing standalone Redis', async () => {
  const redis = await startRedis();
  return { yml: `{ host: 127.0.0.1, port: ${redis.port}, timeout_ms: 1000 }`, masters: [redis.client], stop: () => redis.stop() };
});

describeSharedBudget('token-limit across two nodes sharing a 3-master Redis Cluster', async () => {
  const cluster = await startRedisCluster();
  return { yml: `{ cluster_nodes: [{ host: 127.0.0.1, port: ${cluster.ports[0]} }], timeout_ms: 1000 }`, masters: cluster.nodes.map((node) => node.client), stop: () => cluster.stop() };
});

describeSharedBudget('token-limit across two nodes finding Redis through Sentinel', async () => {
  const sentinel = await startRedisSentinel();
  return {
    yml: `{ sentinel_master: mymaster, sentinel_nodes: [{ host: 127.0.0.1, port: ${sentinel.sentinelPort} }], timeout_ms: 1000 }`,
    masters: [sentinel.master.client],
    stop: () => sentinel.stop(),
  };
});
