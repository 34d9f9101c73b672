// Counters in Redis (standalone, Sentinel or Cluster through ioredis), each check-and-reserve one Lua script.
import type { RedisConfig } from '../../core/redis/redis-config';
import { redisClientFor, whenReady, type RedisClient } from '../../core/redis/redis-client';
import type { CounterRequest, CounterSettlement, LimitPolicy, ReserveOutcome } from './limit-policy';
import { RESERVE_SCRIPT, SETTLE_SCRIPT } from './redis-scripts';

type ScriptClient = RedisClient & {
  tokenLimitReserve(keyCount: number, ...args: Array<string | number>): Promise<number[]>;
  tokenLimitSettle(keyCount: number, ...args: Array<string | number>): Promise<number>;
};

export class RedisPolicy implements LimitPolicy {
  constructor(
    private readonly client: ScriptClient,
    private readonly timeoutMs: number,
  ) {}

  async reserve(requests: CounterRequest[], reservationId: string, ttlMs: number, nowMs: number): Promise<ReserveOutcome> {
    await whenReady(this.client, this.timeoutMs);
    const args = requests.flatMap((request) => [request.limit, request.amount, request.windowEndMs]);
    const reply = await this.client.tokenLimitReserve(requests.length, ...requests.map((request) => request.key), reservationId, nowMs, ttlMs, ...args);
    const counters = reply.slice(2).map((used) => ({ used: Number(used) }));
    if (reply[0] === 1) return { admitted: true, counters };
    return { admitted: false, refused: Number(reply[1]) - 1, counters };
  }

  async settle(settlements: CounterSettlement[], reservationId: string): Promise<void> {
    await whenReady(this.client, this.timeoutMs);
    const args = settlements.flatMap((settlement) => [settlement.actual, settlement.windowEndMs]);
    await this.client.tokenLimitSettle(settlements.length, ...settlements.map((settlement) => settlement.key), reservationId, ...args);
  }
}

/** The policy over the process's shared client for this Redis, with token-limit's scripts defined on it. */
export function redisPolicyFor(config: RedisConfig): RedisPolicy {
  const client = redisClientFor(config, 'token-limit', { tokenLimitReserve: RESERVE_SCRIPT, tokenLimitSettle: SETTLE_SCRIPT });
  return new RedisPolicy(client as ScriptClient, config.timeout_ms);
}
