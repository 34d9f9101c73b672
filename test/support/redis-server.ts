// Starts real redis-server processes for tests (standalone, or a 3-master cluster) on free loopback ports.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import Redis from 'ioredis';
import { freePort } from './free-port';
import { waitFor } from './wait-for';

const run = promisify(execFile);

export interface RedisServer {
  port: number;
  /** A plain client for assertions (not the plugin's). */
  client: Redis;
  /** SIGSTOP: the server holds connections but answers nothing (a slow or hung Redis). */
  pause(): void;
  resume(): void;
  /** Kills the process; `start` brings it back on the same port (empty: no persistence). */
  kill(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export async function startRedis(extraArguments: string[] = [], port?: number): Promise<RedisServer> {
  const chosenPort = port ?? (await freePort());
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'redis-'));
  let child: ChildProcess | null = null;
  let client: Redis | null = null;
  const start = async () => {
    child = spawn('redis-server', ['--port', String(chosenPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', directory, ...extraArguments], { stdio: 'ignore' });
    await waitForPing(chosenPort);
  };
  const kill = async () => {
    const running = child;
    child = null;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGKILL');
    await exited;
  };
  await start();
  client = new Redis({ port: chosenPort, host: '127.0.0.1', lazyConnect: false, maxRetriesPerRequest: 1 });
  return {
    port: chosenPort,
    get client() {
      return client!;
    },
    pause: () => void child?.kill('SIGSTOP'),
    resume: () => void child?.kill('SIGCONT'),
    kill,
    start,
    stop: async () => {
      client?.disconnect();
      (child as ChildProcess | null)?.kill('SIGCONT');
      await kill();
      fs.rmSync(directory, { recursive: true, force: true });
    },
  };
}

export interface RedisCluster {
  ports: number[];
  /** Every key in the cluster, for assertions. */
  keys(pattern: string): Promise<string[]>;
  nodes: RedisServer[];
  stop(): Promise<void>;
}

/** Three masters, no replicas, slots split by redis-cli (Debian's redis-tools ships it with redis-server). */
export async function startRedisCluster(): Promise<RedisCluster> {
  const nodes: RedisServer[] = [];
  try {
    for (let index = 0; index < 3; index += 1) {
      const port = await freePort();
      nodes.push(await startRedis(['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', '5000'], port));
    }
    await run('redis-cli', ['--cluster', 'create', ...nodes.map((node) => `127.0.0.1:${node.port}`), '--cluster-replicas', '0', '--cluster-yes']);
    for (const node of nodes) await waitFor(async () => String(await node.client.cluster('INFO')).includes('cluster_state:ok'), 10_000);
  } catch (error) {
    await Promise.all(nodes.map((node) => node.stop()));
    throw error;
  }
  return {
    ports: nodes.map((node) => node.port),
    nodes,
    keys: async (pattern) => (await Promise.all(nodes.map((node) => node.client.keys(pattern)))).flat(),
    stop: async () => void (await Promise.all(nodes.map((node) => node.stop()))),
  };
}

export interface RedisSentinel {
  master: RedisServer;
  sentinelPort: number;
  stop(): Promise<void>;
}

/** A master and one Sentinel watching it as `mymaster` (redis-server runs as a Sentinel with --sentinel). */
export async function startRedisSentinel(): Promise<RedisSentinel> {
  const master = await startRedis();
  const sentinelPort = await freePort();
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'sentinel-'));
  const configFile = path.join(directory, 'sentinel.conf');
  // Sentinel rewrites its config file, so it must be a writable file of its own.
  fs.writeFileSync(configFile, `port ${sentinelPort}\nbind 127.0.0.1\nsentinel monitor mymaster 127.0.0.1 ${master.port} 1\n`);
  const sentinel = spawn('redis-server', [configFile, '--sentinel'], { stdio: 'ignore' });
  try {
    await waitForPing(sentinelPort);
  } catch (error) {
    sentinel.kill('SIGKILL');
    await master.stop();
    throw error;
  }
  return {
    master,
    sentinelPort,
    stop: async () => {
      sentinel.kill('SIGKILL');
      await master.stop();
      fs.rmSync(directory, { recursive: true, force: true });
    },
  };
}

async function waitForPing(port: number): Promise<void> {
  await waitFor(async () => {
    const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => {});
    try {
      await probe.connect();
      return (await probe.ping()) === 'PONG';
    } finally {
      probe.disconnect();
    }
  }, 10_000);
}
