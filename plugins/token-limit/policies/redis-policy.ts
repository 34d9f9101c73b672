// Counters in Redis (standalone, Sentinel or Cluster through ioredis), each check-and-reserve one Lua script.
import Redis, { Cluster, type RedisOptions } from 'ioredis';
import { resolveVaultReference } from '../../core/vault';
import { logger } from '../../core/logger';
import type { RedisConfig } from '../config';
import type { CounterRequest, CounterSettlement, LimitPolicy, ReserveOutcome } from './limit-policy';
import { RESERVE_SCRIPT, SETTLE_SCRIPT } from './redis-scripts';

type ScriptClient = (Redis | Cluster) & {
  tokenLimitReserve(keyCount: number, ...args: Array<string | number>): Promise<number[]>;
  tokenLimitSettle(keyCount: number, ...args: Array<string | number>): Promise<number>;
};

export class RedisPolicy implements LimitPolicy {
  constructor(
    private readonly client: ScriptClient,
    private readonly timeoutMs: number,
  ) {}

  async reserve(requests: CounterRequest[], reservationId: string, ttlMs: number, nowMs: number): Promise<ReserveOutcome> {
    await this.ready();
    const args = requests.flatMap((request) => [request.limit, request.amount, request.windowEndMs]);
    const reply = await this.client.tokenLimitReserve(requests.length, ...requests.map((request) => request.key), reservationId, nowMs, ttlMs, ...args);
    const counters = reply.slice(2).map((used) => ({ used: Number(used) }));
    if (reply[0] === 1) return { admitted: true, counters };
    return { admitted: false, refused: Number(reply[1]) - 1, counters };
  }

  async settle(settlements: CounterSettlement[], reservationId: string): Promise<void> {
    await this.ready();
    const args = settlements.flatMap((settlement) => [settlement.actual, settlement.windowEndMs]);
    await this.client.tokenLimitSettle(settlements.length, ...settlements.map((settlement) => settlement.key), reservationId, ...args);
  }

  /**
   * Commands are never queued while disconnected, so the first ones after start wait (bounded) for
   * the connection; a client that lost Redis and is reconnecting fails at once instead.
   */
  private async ready(): Promise<void> {
    const status = this.client.status;
    if (status === 'ready') return;
    if (status !== 'wait' && status !== 'connecting' && status !== 'connect') throw new Error(`redis is ${status}`);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.client.off('ready', onReady);
        reject(new Error(`redis not ready within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      const onReady = () => {
        clearTimeout(timer);
        resolve();
      };
      this.client.once('ready', onReady);
    });
  }
}

/** One client per distinct Redis config, for the life of the process: Kong re-creates plugin instances often. */
const clients = new Map<string, ScriptClient>();

export function redisPolicyFor(config: RedisConfig): RedisPolicy {
  const cacheKey = JSON.stringify(config);
  let client = clients.get(cacheKey);
  if (!client) clients.set(cacheKey, (client = connect(config)));
  return new RedisPolicy(client, config.timeout_ms);
}

/** Closes every client (plugin server shutdown, tests). */
export async function closeRedisClients(): Promise<void> {
  const open = [...clients.values()];
  clients.clear();
  await Promise.all(open.map((client) => client.quit().catch(() => client.disconnect())));
}

function connect(config: RedisConfig): ScriptClient {
  const options: RedisOptions = {
    username: config.username,
    password: config.password === undefined ? undefined : resolveVaultReference(config.password),
    db: config.database,
    tls: config.ssl ? {} : undefined,
    // Never queue a command while disconnected: a check waits at most timeout_ms, then fault_tolerant decides.
    enableOfflineQueue: false,
    commandTimeout: config.timeout_ms,
    connectTimeout: Math.max(config.timeout_ms, 1000),
    maxRetriesPerRequest: 0,
    // Keep reconnecting, at most a second apart: recovery needs no restart.
    retryStrategy: (attempt) => Math.min(attempt * 100, 1000),
  };
  let client: Redis | Cluster;
  if (config.cluster_nodes !== undefined) {
    client = new Cluster(config.cluster_nodes, {
      redisOptions: options,
      enableOfflineQueue: false,
      clusterRetryStrategy: (attempt) => Math.min(attempt * 100, 1000),
      slotsRefreshTimeout: Math.max(config.timeout_ms, 1000),
    });
  } else if (config.sentinel_nodes !== undefined) {
    client = new Redis({ ...options, sentinels: config.sentinel_nodes, name: config.sentinel_master });
  } else {
    client = new Redis({ ...options, host: config.host, port: config.port });
  }
  // Errors surface on each command; the event only needs to be observed (else Node prints it), quietly.
  let lastLogged = 0;
  client.on('error', (error: Error) => {
    if (Date.now() - lastLogged < 10_000) return;
    lastLogged = Date.now();
    logger.warn({ err: { message: error.message } }, 'token-limit: redis connection error');
  });
  client.defineCommand('tokenLimitReserve', { lua: RESERVE_SCRIPT });
  client.defineCommand('tokenLimitSettle', { lua: SETTLE_SCRIPT });
  return client as ScriptClient;
}
