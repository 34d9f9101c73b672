// How plugins reach Redis (standalone, Sentinel or Cluster): one config shape shared by every plugin that uses it.
import { z } from 'zod';
import { isVaultReference } from '../vault';

const redisNode = z.object({
  host: z.string().min(1).describe('Host name or IP address of the node.'),
  port: z.number().int().min(1).max(65535).default(6379).describe('TCP port of the node.'),
});

export const redisConfig = z
  .object({
    host: z.string().min(1).default('127.0.0.1').describe('Redis host (standalone). Ignored when `sentinel_nodes` or `cluster_nodes` are set.'),
    port: z.number().int().min(1).max(65535).default(6379).describe('Redis port (standalone).'),
    username: z.string().optional().describe('ACL user name, if Redis requires one.'),
    password: z
      .string()
      .refine(isVaultReference, 'must be a Kong vault reference such as {vault://env/REDIS_PASSWORD}, never the password itself')
      .optional()
      .describe('Redis password as a Kong env vault reference, `{vault://env/NAME}`.'),
    database: z.number().int().min(0).default(0).describe('Database number (standalone and Sentinel; Cluster has only 0).'),
    ssl: z.boolean().default(false).describe('Connect with TLS.'),
    timeout_ms: z
      .number()
      .int()
      .min(1)
      .max(10_000)
      .default(50)
      .describe('The longest one Redis operation may wait, connecting included; past it the plugin treats Redis as down (token-limit: `fault_tolerant` decides; semantic-cache: the request bypasses the cache).'),
    sentinel_master: z.string().optional().describe('The Sentinel master name; set with `sentinel_nodes` to use Sentinel.'),
    sentinel_nodes: z.array(redisNode).optional().describe('Sentinel addresses; the master is discovered through them.'),
    cluster_nodes: z.array(redisNode).optional().describe('Seed addresses of a Redis Cluster; the rest of the cluster is discovered.'),
  })
  .superRefine((value, context) => {
    if ((value.sentinel_nodes === undefined) !== (value.sentinel_master === undefined)) {
      context.addIssue({ code: 'custom', path: ['sentinel_master'], message: 'sentinel_master and sentinel_nodes go together' });
    }
    if (value.sentinel_nodes !== undefined && value.cluster_nodes !== undefined) {
      context.addIssue({ code: 'custom', path: ['cluster_nodes'], message: 'choose Sentinel or Cluster, not both' });
    }
  });
export type RedisConfig = z.output<typeof redisConfig>;
