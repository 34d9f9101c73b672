// Operator command: deletes every semantic-cache entry of one scope (e.g. a consumer's) from Redis, for all nodes.
import { parseArgs } from 'node:util';
import { redisConfig } from '../core/redis/redis-config';
import { closeRedisClients } from '../core/redis/redis-client';
import { CACHE_SCOPES, type CacheScope } from './config';
import { scopeIdOf, scopeSetOf } from './partition-keys';
import { redisCacheStoreFor } from './stores/redis-cache-store';

const USAGE = `usage: node dist/plugins/semantic-cache/purge-cache.js --namespace NAME --scope global|consumer|route|header [--value VALUE]
       [--redis-host HOST] [--redis-port PORT] [--redis-database N]
  VALUE is the consumer's username (else custom_id, else id), the route id or the header value (omit it for global).
  Standalone Redis (or a Sentinel's current master) only. With a password: run it where the variable is set
  and pass --redis-password-env NAME.`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      namespace: { type: 'string' },
      scope: { type: 'string' },
      value: { type: 'string', default: '' },
      'redis-host': { type: 'string', default: '127.0.0.1' },
      'redis-port': { type: 'string', default: '6379' },
      'redis-database': { type: 'string', default: '0' },
      'redis-password-env': { type: 'string' },
    },
  });
  if (values.namespace === undefined || !CACHE_SCOPES.includes(values.scope as CacheScope)) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const redis = redisConfig.parse({
    host: values['redis-host'],
    port: Number(values['redis-port']),
    database: Number(values['redis-database']),
    timeout_ms: 5000,
    ...(values['redis-password-env'] ? { password: `{vault://env/${values['redis-password-env']}}` } : {}),
  });
  try {
    const scopeId = scopeIdOf(values.namespace, values.scope as CacheScope, values.value);
    const partitions = await redisCacheStoreFor(redis).purge(scopeSetOf(scopeId));
    process.stdout.write(`purged ${partitions} partition(s) of ${values.scope} scope${values.value ? ` "${values.value}"` : ''} in namespace ${values.namespace}\n`);
    return 0;
  } finally {
    await closeRedisClients();
  }
}

main().then(
  (code) => (process.exitCode = code),
  (error: Error) => {
    process.stderr.write(`purge failed: ${error.message}\n`);
    process.exitCode = 1;
  },
);
