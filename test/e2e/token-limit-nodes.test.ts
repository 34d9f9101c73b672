// Two Kong nodes (two stand-ins, two plugin servers) share one budget in Redis: standalone, Cluster and Sentinel.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEMO_CONSUMER_YML, postChat, startGateway, writeKongYml, type Gateway } from '../support/gateway';
import type Redis from 'ioredis';
import { startRedis, startRedisCluster, startRedisSentinel } from '../support/redis-server';
import { waitFor } from '../support/wait-for';

const LIMIT = 3000;
const MAX_TOKENS = 20;
const REQUESTS = 200;

function kongYml(redis: string): string {
  return `_format_version: "3.0"
services:
  - name: ai-connector
    url: http://127.0.0.1:8787
    routes:
      - name: shared
        paths: [/v1/chat/completions]
        plugins:
          - name: key-auth
          - name: token-limit
            config:
              # Each node's stand-in gives the plugin its own id: the namespace names the counters alike.
              namespace: shared-budget
              limits: [{ name: tokens, metric: total_tokens, limit: ${LIMIT}, window: hour }]
              policy: redis
              redis: ${redis}
          - name: llm-proxy
            config:
              targets:
                - { provider: openai-compatible, model: gpt-4o, base_url: "http://mock-llm:9090/v1", max_tokens: ${MAX_TOKENS} }
${DEMO_CONSUMER_YML}`;
}

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
  const words = (index: number) => Array.from({ length: 5 + (index % 20) }, (_, word) => `w${word}`).join(' ');
  const responses = await Promise.all(
    Array.from({ length: REQUESTS }, async (_, index) => {
      const node = nodes[index % nodes.length]!;
      const response = await postChat(node.kong.url, { model: 'gpt-4o', messages: [{ role: 'user', content: words(index) }] });
      return { status: response.status, body: (await response.json()) as { usage?: { total_tokens: number } } };
    }),
  );
  const admitted = responses.filter((response) => response.status === 200);
  const refused = responses.filter((response) => response.status === 429);
  assert.equal(admitted.length + refused.length, REQUESTS, `statuses: ${[...new Set(responses.map((response) => response.status))].join(',')}`);
  return {
    admitted: admitted.length,
    refused: refused.length,
    reportedTokens: admitted.reduce((sum, response) => sum + response.body.usage!.total_tokens, 0),
    // A prompt of at most 24 short words is under 60 tokens with its framing (o200k).
    largestReservation: 60 + MAX_TOKENS,
  };
}

async function startNodes(redisYml: string): Promise<Gateway[]> {
  const file = writeKongYml(kongYml(redisYml));
  const nodes = [await startGateway({ declarativeConfig: file }), await startGateway({ declarativeConfig: file })];
  for (const node of nodes) node.mock.setMode('echo');
  return nodes;
}

async function committedAndReserved(hashes: Array<Record<string, string>>): Promise<{ committed: number; reserved: number; reservations: number }> {
  return {
    committed: hashes.reduce((sum, hash) => sum + Number(hash.c ?? 0), 0),
    reserved: hashes.reduce((sum, hash) => sum + Number(hash.r ?? 0), 0),
    reservations: hashes.reduce((sum, hash) => sum + Object.keys(hash).filter((field) => field.startsWith('x:')).length, 0),
  };
}

function assertBudgetHeld(result: RaceResult, stored: { committed: number; reserved: number; reservations: number }): void {
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
      nodes = await startNodes(redis.yml);
    });
    after(async () => {
      await Promise.all(nodes.map((node) => node.stop()));
      await redis?.stop();
    });

    it(`${REQUESTS} concurrent requests over two nodes never exceed the limit by more than one reservation`, async (t) => {
      const result = await race(nodes);
      t.diagnostic(`admitted ${result.admitted}, refused ${result.refused}, ${result.reportedTokens} tokens used of ${LIMIT}`);
      const stored = async () => {
        const hashes: Array<Record<string, string>> = [];
        for (const master of redis.masters) for (const key of await master.keys('tl:{shared-budget:*')) hashes.push(await master.hgetall(key));
        return committedAndReserved(hashes);
      };
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
