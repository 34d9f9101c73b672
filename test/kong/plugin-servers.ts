// Kong's plugin server management: definitions from KONG_PLUGINSERVER_* settings, query commands, start command.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { promisify } from 'node:util';

export interface PluginServerDefinition {
  name: string;
  socket: string;
  startCommand: string | null;
  queryCommand: string;
}

export interface ExternalPluginInfo {
  Name: string;
  Version: string;
  Priority: number;
  Phases: string[];
  Schema: { name: string; fields: Array<Record<string, unknown>> };
}

/**
 * Mirrors kong/conf_loader/init.lua: `pluginserver_names`, then per name (with `-` -> `_`)
 * `pluginserver_<name>_socket` (default `<prefix>/<name>.socket`), `_start_cmd`, `_query_cmd`.
 */
export function pluginServerDefinitions(environment: Record<string, string | undefined>, prefix = '/usr/local/kong'): PluginServerDefinition[] {
  const names = (environment.KONG_PLUGINSERVER_NAMES ?? '').split(',').map((name) => name.trim().toLowerCase()).filter(Boolean);
  return names.map((name) => {
    const key = `KONG_PLUGINSERVER_${name.replace(/-/g, '_').toUpperCase()}`;
    const queryCommand = environment[`${key}_QUERY_CMD`];
    if (!queryCommand) throw new Error(`query_command undefined for pluginserver ${name}`);
    return {
      name,
      socket: environment[`${key}_SOCKET`] ?? `${prefix}/${name}.socket`,
      startCommand: environment[`${key}_START_CMD`] ?? null,
      queryCommand,
    };
  });
}

/**
 * kong/runloop/plugin_servers/process.lua: runs the query command, decodes its stdout as JSON,
 * and registers only the first plugin of the dump (Kong 3.9). dao/plugins.lua checks the fields.
 */
export async function queryPluginServer(definition: PluginServerDefinition): Promise<ExternalPluginInfo> {
  const { stdout } = await promisify(execFile)('/bin/sh', ['-c', definition.queryCommand], { maxBuffer: 16 * 1024 * 1024 });
  let dump: unknown;
  try {
    dump = JSON.parse(stdout);
  } catch (error) {
    throw new Error(`failed loading external plugins: ${definition.name}: query output is not JSON: ${(error as Error).message}`);
  }
  const plugins = (dump as { Plugins?: unknown[] }).Plugins ?? (dump as unknown[]);
  const info = Array.isArray(plugins) ? (plugins[0] as ExternalPluginInfo | undefined) : undefined;
  if (!info) throw new Error(`failed loading external plugins: ${definition.name}: no plugin in query output`);
  if (!Number.isInteger(info.Priority)) throw new Error(`Plugin "${info.Name}" cannot be loaded because its PRIORITY field is not a valid integer number`);
  if (!/^\d+\.\d+\.\d+$/.test(String(info.Version))) throw new Error(`Plugin "${info.Name}" cannot be loaded because its VERSION field does not follow the "x.y.z" format`);
  return info;
}

/**
 * Kong spawns each start command (only one of ours has one) and respawns it when it exits,
 * at most once a second, unless it exits with 127 (process.lua).
 */
export class ManagedProcess {
  child: ChildProcess | null = null;
  private stopped = false;
  readonly output: string[] = [];

  constructor(
    readonly command: string,
    private readonly environment: NodeJS.ProcessEnv,
    private readonly respawn: boolean,
  ) {}

  start(): void {
    const child = spawn('/bin/sh', ['-c', `exec ${this.command}`], { env: this.environment, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    const keep = (chunk: Buffer) => {
      this.output.push(chunk.toString('utf8'));
      if (this.output.length > 2000) this.output.shift();
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    child.once('exit', (code) => {
      if (this.child === child) this.child = null;
      if (!this.stopped && this.respawn && code !== 127) setTimeout(() => !this.stopped && this.start(), 1000).unref();
    });
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    this.child?.kill(signal);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const child = this.child;
    if (!child) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 3000))]);
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}

/** Waits until every socket accepts a connection. */
export async function waitForSockets(sockets: string[], timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const socket of sockets) {
    while (!(await accepts(socket))) {
      if (Date.now() > deadline) throw new Error(`plugin server socket ${socket} did not come up`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

function accepts(socket: string): Promise<boolean> {
  if (!fs.existsSync(socket)) return Promise.resolve(false);
  return new Promise((resolve) => {
    const connection = net.createConnection(socket);
    connection.once('connect', () => (connection.destroy(), resolve(true)));
    connection.once('error', () => resolve(false));
  });
}
