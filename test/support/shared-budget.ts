// Two Kong nodes (two stand-ins, two plugin servers) racing many requests against one token-limit budget in Redis.
import type Redis from 'ioredis';
import { connectorKongYml, postChat, startGateway, writeKongYml, type Gateway } from './gateway';

/** The counters' namespace: each node's stand-in gives the plugin its own id, so the namespace names them alike. */
export const SHARED_BUDGET_NAMESPACE = 'shared-budget';

export interface SharedBudget {
  /** Total tokens an hour, for the demo consumer. */
  limit: number;
  /** The target's output cap: with the prompt, what one request reserves. */
  maxTokens: number;
}

export function sharedBudgetKongYml(redisYml: string, budget: SharedBudget): string {
  return connectorKongYml(`
      - name: shared
        paths: [/v1/chat/completions]
        plugins:
          - name: key-auth
          - name: token-limit
            config:
              namespace: ${SHARED_BUDGET_NAMESPACE}
              limits: [{ name: tokens, metric: total_tokens, limit: ${budget.limit}, window: hour }]
              policy: redis
              redis: ${redisYml}
          - name: llm-proxy
            config:
              targets:
                - { provider: openai-compatible, model: gpt-4o, base_url: "http://mock-llm:9090/v1", max_tokens: ${budget.maxTokens} }`);
}

/** Nodes on the same kong.yml (two unless told), their mocks echoing (usage = word counts). */
export async function startBudgetNodes(redisYml: string, budget: SharedBudget, options: { count?: number; pluginServerEnvironment?: NodeJS.ProcessEnv } = {}): Promise<Gateway[]> {
  const file = writeKongYml(sharedBudgetKongYml(redisYml, budget));
  const nodes: Gateway[] = [];
  try {
    for (let index = 0; index < (options.count ?? 2); index += 1) nodes.push(await startGateway({ declarativeConfig: file, pluginServerEnvironment: options.pluginServerEnvironment }));
  } catch (error) {
    await Promise.all(nodes.map((node) => node.stop()));
    throw error;
  }
  for (const node of nodes) node.mock.setMode('echo');
  return nodes;
}

export interface RaceResponse {
  status: number;
  /** Total tokens the provider reported, as the client was told (admitted requests only). */
  totalTokens: number | null;
}

/** A prompt of 5 to 24 short words: under 60 tokens with its framing (o200k). */
export function raceWords(index: number): string {
  return Array.from({ length: 5 + (index % 20) }, (_, word) => `w${word}`).join(' ');
}

/** The largest reservation one race request makes: its prompt (under 60 tokens) plus the output cap. */
export function largestRaceReservation(budget: SharedBudget): number {
  return 60 + budget.maxTokens;
}

/** `requests` requests at once, alternating between the nodes, against the one limit; `prompt` writes each one's question. */
export async function raceForBudget(nodes: Gateway[], requests: number, prompt: (index: number) => string = raceWords): Promise<RaceResponse[]> {
  return Promise.all(
    Array.from({ length: requests }, async (_, index) => {
      const node = nodes[index % nodes.length]!;
      const response = await postChat(node.kong.url, { model: 'gpt-4o', messages: [{ role: 'user', content: prompt(index) }] });
      const body = (await response.json()) as { usage?: { total_tokens: number } };
      return { status: response.status, totalTokens: response.status === 200 ? (body.usage?.total_tokens ?? null) : null };
    }),
  );
}

export interface StoredBudget {
  committed: number;
  reserved: number;
  reservations: number;
}

/** Committed (`c`), reserved (`r`) and live reservations (`x:` fields) of every counter of the namespace, over every master. */
export async function storedBudget(masters: Redis[], namespace = SHARED_BUDGET_NAMESPACE): Promise<StoredBudget> {
  const hashes: Array<Record<string, string>> = [];
  for (const master of masters) for (const key of await master.keys(`tl:{${namespace}:*`)) hashes.push(await master.hgetall(key));
  return {
    committed: hashes.reduce((sum, hash) => sum + Number(hash.c ?? 0), 0),
    reserved: hashes.reduce((sum, hash) => sum + Number(hash.r ?? 0), 0),
    reservations: hashes.reduce((sum, hash) => sum + Object.keys(hash).filter((field) => field.startsWith('x:')).length, 0),
  };
}
