// One ioredis client per distinct Redis config for the whole process, shared by every plugin that uses Redis.
import Redis, { Cluster, type RedisOptions } from 'ioredis';
import { resolveVaultReference } from '../vault';
import { logger } from '../logger';
import type { RedisConfig } from './redis-config';

export type RedisClient = Redis | Cluster;

/** One client per distinct Redis config and user, for the life of the process: Kong re-creates plugin instances often. */
const clients = new Map<string, RedisClient>();

/**
 * `user` names who uses the connection: plugins get their own, so one's slow replies never delay another's.
 * `scripts` (command name -> Lua) are defined once, when the client is made; ioredis runs them by EVALSHA.
 */
export function redisClientFor(config: RedisConfig, user: string, scripts: Record<string, string> = {}): RedisClient {
  const cacheKey = JSON.stringify([user, config]);
  let client = clients.get(cacheKey);
  if (!client) {
    clients.set(cacheKey, (client = connect(config)));
    for (const [name, lua] of Object.entries(scripts)) client.defineCommand(name, { lua });
  }
  return client;
}

/** Closes every client (plugin server shutdown, tests). */
export async function closeRedisClients(): Promise<void> {
  const open = [...clients.values()];
  clients.clear();
  await Promise.all(open.map((client) => client.quit().catch(() => client.disconnect())));
}

/**
 * Commands are never queued while disconnected, so the first ones after start wait (bounded) for
 * the connection; a client that lost Redis and is reconnecting fails at once instead.
 */
export async function whenReady(client: RedisClient, timeoutMs: number): Promise<void> {
  const status = client.status;
  if (status === 'ready') return;
  if (status !== 'wait' && status !== 'connecting' && status !== 'connect') throw new Error(`redis is ${status}`);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off('ready', onReady);
      reject(new Error(`redis not ready within ${timeoutMs} ms`));
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    client.once('ready', onReady);
  });
}

function connect(config: RedisConfig): RedisClient {
  const options: RedisOptions = {
    username: config.username,
    password: config.password === undefined ? undefined : resolveVaultReference(config.password),
    db: config.database,
    tls: config.ssl ? {} : undefined,
    // Never queue a command while disconnected: an operation waits at most timeout_ms, then the plugin decides.
    enableOfflineQueue: false,
    // Nor send again, after a reconnect, what was in flight when the connection dropped: its caller gave up
    // long ago (a reservation resent that way would sit in Redis, held by nobody, until its TTL).
    autoResendUnfulfilledCommands: false,
    commandTimeout: config.timeout_ms,
    connectTimeout: Math.max(config.timeout_ms, 1000),
    maxRetriesPerRequest: 0,
    // Keep reconnecting, at most a second apart: recovery needs no restart.
    retryStrategy: (attempt) => Math.min(attempt * 100, 1000),
  };
  let client: RedisClient;
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
    logger.warn({ err: { message: error.message } }, 'redis connection error');
  });
  return client;
}
