#!/usr/bin/env node
// Entry point of the AI plugin server: serves all plugins to Kong, or prints one plugin's info for Kong's query command.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startConnector } from '../core/connector/connector';
import { logger } from '../core/logger';
import { ALL_PLUGINS } from './all-plugins';
import { AiPluginServer } from './plugin-server';
import { closeRedisClients } from '../core/redis/redis-client';
import { closeEmbedders } from '../core/embeddings/embedder';
import { localReservationCount } from '../token-limit/index';
import { warmTokenizers } from '../core/tokens/token-counter';
import { nameLexicon } from '../core/pii/detect-names';
import { runtime } from './runtime';

const USAGE = `Usage:
  kong-ai-plugin-server                 serve every plugin to Kong (one unix socket per plugin) and run the connector
  kong-ai-plugin-server --dump NAME     print NAME's info as the JSON Kong's query command expects, then exit

Environment:
  AI_SOCKET_DIR        directory of the sockets, one <plugin name>.socket each (default /usr/local/kong)
  AI_CONNECTOR_LISTEN  host:port of the connector Kong proxies to (default 127.0.0.1:8787)
  AI_LOG_LEVEL         pino level (default info); JSON logs go to stderr`;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { dump: { type: 'string' }, help: { type: 'boolean' } } });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const server = new AiPluginServer(ALL_PLUGINS);
  if (values.dump !== undefined) {
    server.close();
    if (!ALL_PLUGINS.some((plugin) => plugin.Name === values.dump)) {
      process.stderr.write(`unknown plugin "${values.dump}"; known: ${ALL_PLUGINS.map((p) => p.Name).join(', ')}\n`);
      process.exitCode = 2;
      return;
    }
    // Kong 3.9 reads only the first element of this array (kong/runloop/plugin_servers/process.lua).
    process.stdout.write(`${JSON.stringify([await server.info(values.dump)])}\n`);
    return;
  }
  await serve(server);
}

async function serve(server: AiPluginServer): Promise<void> {
  const socketDirectory = process.env.AI_SOCKET_DIR ?? '/usr/local/kong';
  const [host, port] = parseListen(process.env.AI_CONNECTOR_LISTEN ?? '127.0.0.1:8787');
  fs.mkdirSync(socketDirectory, { recursive: true });
  runtime.liveInstances = () => server.liveInstances();
  const connector = await startConnector(runtime.contexts, {
    host,
    port,
    status: () => ({
      pending_events: server.pendingEvents,
      instances: server.liveInstances().length,
      token_limit_local_reservations: localReservationCount(),
      // For leak checks from outside (soak, bad-input suite): memory and what keeps the event loop busy.
      rss_mib: Math.round(process.memoryUsage.rss() / 2 ** 20),
      heap_used_mib: Math.round(process.memoryUsage().heapUsed / 2 ** 20),
      active_resources: process.getActiveResourcesInfo().length,
    }),
  });
  const sockets = new Map(ALL_PLUGINS.map((plugin) => [plugin.Name, path.join(socketDirectory, `${plugin.Name}.socket`)]));
  const listeners = server.listen(sockets);
  logger.info({ sockets: [...sockets.values()], connector: `${host}:${port}` }, 'AI plugin server ready');
  // Tables the first requests would otherwise load: kept out of the query command, loaded once here.
  warmTokenizers();
  nameLexicon();

  const stop = (signal: string) => {
    logger.info({ signal }, 'stopping');
    server.close();
    runtime.contexts.close();
    void closeRedisClients();
    void closeEmbedders();
    for (const listener of listeners) listener.close();
    connector.close();
    for (const socket of sockets.values()) fs.rmSync(socket, { force: true });
    setTimeout(() => process.exit(0), 200).unref();
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

function parseListen(listen: string): [string, number] {
  const colon = listen.lastIndexOf(':');
  const port = Number(listen.slice(colon + 1));
  if (colon < 1 || !Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`AI_CONNECTOR_LISTEN must be host:port, got "${listen}"`);
  return [listen.slice(0, colon), port];
}

process.on('unhandledRejection', (reason) => {
  logger.error({ err: { message: String((reason as Error)?.message ?? reason) } }, 'unhandled rejection');
});

main().catch((error: unknown) => {
  logger.fatal({ err: { message: (error as Error).message, stack: (error as Error).stack } }, 'AI plugin server failed to start');
  process.exitCode = 1;
  setTimeout(() => process.exit(1), 100).unref();
});
