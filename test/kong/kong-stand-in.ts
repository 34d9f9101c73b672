// A stand-in for Kong's proxy path, for tests: routes, key-auth, external plugin phases over RPC, unbuffered proxying.
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { loadDeclarativeConfig, matchRoute, pluginFor, type DeclarativeConfig, type PluginEntity, type RouteMatch } from './declarative-config';
import { configAsPluginReceivesIt, validatePluginConfig } from './kong-schema-validator';
import { MsgpackRpcClient, RpcError } from './msgpack-rpc-client';
import { LuaError, RequestModel, type ExitResponse, type Phase } from './pdk-model';
import { ManagedProcess, pluginServerDefinitions, queryPluginServer, waitForSockets, type ExternalPluginInfo, type PluginServerDefinition } from './plugin-servers';
import { MemoryLog } from './stand-in-log';

export interface StandInOptions {
  /** Path of kong.yml. */
  declarativeConfig: string;
  /** Literal substitutions applied to kong.yml before parsing (e.g. addresses of local test servers). */
  replace?: Record<string, string>;
  /** KONG_PLUGINSERVER_* and KONG_PLUGINS settings, as Kong reads them from its environment. */
  kongEnvironment: Record<string, string>;
  /** Environment of the plugin server process Kong starts. */
  pluginServerEnvironment?: NodeJS.ProcessEnv;
  /** Restart the plugin server when it exits, as Kong does. */
  respawn?: boolean;
}

interface ExternalPlugin {
  info: ExternalPluginInfo;
  definition: PluginServerDefinition;
  rpc: MsgpackRpcClient;
  /** kong/runloop/plugin_servers/plugin.lua running_instances: __plugin_id -> instance id (being started or started) */
  instances: Map<string, Promise<number>>;
}

/** The bundled plugin the stand-in implements natively (priority from kong/plugins/key-auth/handler.lua). */
const KEY_AUTH_PRIORITY = 1250;

const UNEXPECTED: ExitResponse = { status: 500, body: Buffer.from('{"message":"An unexpected error occurred"}'), headers: { 'content-type': 'application/json; charset=utf-8' } };

export class KongStandIn {
  readonly log = new MemoryLog();
  private server: http.Server | null = null;
  private process: ManagedProcess | null = null;
  private readonly externals = new Map<string, ExternalPlugin>();
  private config!: DeclarativeConfig;
  private sequence = 0;

  constructor(private readonly options: StandInOptions) {}

  get url(): string {
    const address = this.server?.address() as AddressInfo;
    return `http://127.0.0.1:${address.port}`;
  }

  /** RPC calls made to all plugin servers so far. */
  get rpcCalls(): number {
    return [...this.externals.values()].reduce((total, external) => total + external.rpc.calls, 0);
  }

  get pluginServer(): ManagedProcess | null {
    return this.process;
  }

  /**
   * Test hook: every RPC to this plugin's server now fails as if its socket were gone. Kong logs such
   * failures and carries on without the plugin (fail-open), which is what the policy check must catch.
   */
  breakPlugin(name: string): void {
    const external = this.externals.get(name);
    if (!external) throw new Error(`no external plugin ${name}`);
    external.rpc.close();
    external.rpc = new MsgpackRpcClient(`${external.definition.socket}.broken`);
  }

  /** Like `kong start`: plugin servers, then kong.yml (validated against their schemas), then the proxy. */
  async start(): Promise<void> {
    const definitions = pluginServerDefinitions(this.options.kongEnvironment);
    const enabled = new Set((this.options.kongEnvironment.KONG_PLUGINS ?? 'bundled').split(',').map((name) => name.trim()));
    const starters = definitions.filter((definition) => definition.startCommand !== null);
    for (const definition of starters) {
      this.process = new ManagedProcess(definition.startCommand!, { ...process.env, ...this.options.pluginServerEnvironment }, this.options.respawn ?? false);
      this.process.start();
    }
    for (const definition of definitions) {
      const info = await queryPluginServer(definition);
      if (!enabled.has(info.Name)) throw new Error(`plugin '${info.Name}' is not enabled; add it to the 'plugins' configuration property`);
      this.externals.set(info.Name, { info, definition, rpc: new MsgpackRpcClient(definition.socket), instances: new Map() });
    }
    await waitForSockets(definitions.map((definition) => definition.socket));
    this.loadConfig();
    this.server = http.createServer((request, response) => void this.handle(request, response));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => (this.server ? this.server.close(resolve) : resolve(undefined)));
    this.server?.closeAllConnections();
    for (const external of this.externals.values()) external.rpc.close();
    await this.process?.stop();
  }

  /** Loads and validates kong.yml; throws Kong's "declarative config is invalid" with the field path. */
  private loadConfig(): void {
    const config = loadDeclarativeConfig(this.options.declarativeConfig, this.options.replace);
    const problems: string[] = [];
    for (const plugin of config.plugins) {
      if (plugin.name === 'key-auth') {
        plugin.config = { key_names: ['apikey'], hide_credentials: false, key_in_header: true, key_in_query: true, key_in_body: false, ...plugin.config };
        continue;
      }
      const external = this.externals.get(plugin.name);
      if (!external) {
        problems.push(`plugins: plugin '${plugin.name}' not enabled; add it to the 'plugins' configuration property`);
        continue;
      }
      const schema = external.info.Schema as Parameters<typeof validatePluginConfig>[0];
      const validation = validatePluginConfig(schema, plugin.config);
      if (!validation.ok) problems.push(`plugins: ${plugin.name}: ${validation.message}`);
      // What Kong stores is not what it sends: nulls and unknown keys are dropped when it reads it back.
      else plugin.config = configAsPluginReceivesIt(schema, validation.config);
    }
    if (problems.length) throw new Error(`declarative config is invalid: ${problems.join('; ')}`);
    this.config = config;
  }

  private async handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const started = Date.now();
    const body = await readBody(request);
    const url = new URL(request.url ?? '/', 'http://stand-in');
    const match = matchRoute(this.config, request.method ?? 'GET', url.pathname);
    if (!match) return sendExit(response, { status: 404, body: Buffer.from('{"message":"no Route matched with those values"}'), headers: { 'content-type': 'application/json; charset=utf-8' } });

    const model = new RequestModel(request.method ?? 'GET', url.pathname, url.search.slice(1), request.headers, body, request.socket.remoteAddress ?? '127.0.0.1', {
      route: { ...match.route },
      service: { ...match.service },
      consumer: null,
      consumerGroups: null,
      credential: null,
    }, this.log);
    model.phase = 'access';

    const collected: Array<{ plugin: PluginEntity; external: ExternalPlugin | null; priority: number }> = [];
    const keyAuth = pluginFor(this.config, 'key-auth', match.route.id, match.service.id, null);
    let delayed: ExitResponse | null = keyAuth ? this.keyAuth(keyAuth, model) : null;
    // kong/init.lua execute_collecting_plugins_iterator: every applicable plugin is collected (its log
    // phase will run), but once a response is delayed (exit, or a Lua error) no access handler runs.
    for (const external of [...this.externals.values()].sort((a, b) => b.info.Priority - a.info.Priority)) {
      const plugin = pluginFor(this.config, external.info.Name, match.route.id, match.service.id, (model.entities.consumer?.id as string | undefined) ?? null);
      if (!plugin) continue;
      collected.push({ plugin, external, priority: external.info.Priority });
      if (delayed || !external.info.Phases.includes('access')) continue;
      try {
        await this.runEvent(external, plugin, model, 'access');
      } catch (error) {
        this.log.error(`[${external.info.Name}] ${(error as Error).message}`);
        if (error instanceof LuaError) delayed = UNEXPECTED;
        // Otherwise an RPC failure: Kong logs it and carries on without the plugin (fail-open).
      }
      if (model.exit) delayed = model.exit;
    }

    if (delayed) sendExit(response, delayed);
    else await this.proxy(match, model, response, started);
    await finished(response);
    model.responseStatus = response.statusCode;
    model.responseHeaders = response.getHeaders() as Record<string, string | string[]>;
    model.phase = 'log';
    // The log phase runs in a timer after the response (plugin.lua); failures are only logged.
    for (const { plugin, external } of collected) {
      if (!external?.info.Phases.includes('log')) continue;
      await this.runEvent(external, plugin, model, 'log').catch((error: Error) => this.log.error(`[${external.info.Name}] log: ${error.message}`));
    }
  }

  /** kong/plugins/key-auth/handler.lua, for keys in headers (and the query string). */
  private keyAuth(plugin: PluginEntity, model: RequestModel): ExitResponse | null {
    const keyNames = (plugin.config.key_names as string[]) ?? ['apikey'];
    let key: string | undefined;
    for (const name of keyNames) key ??= model.headers.get(name.toLowerCase())?.[0];
    if (key === undefined) return jsonExit(401, { message: 'No API key found in request' }, { 'www-authenticate': 'Key' });
    const credential = this.config.credentials.find((candidate) => candidate.key === key);
    const consumer = credential && this.config.consumers.find((candidate) => candidate.id === credential.consumer.id);
    if (!credential || !consumer) return jsonExit(401, { message: 'Unauthorized' }, { 'www-authenticate': 'Key' });
    const { groups, ...consumerEntity } = consumer;
    model.entities.consumer = consumerEntity;
    model.entities.consumerGroups = groups.length === 0 ? null : groups.map((name) => ({ id: `group-${name}`, name }));
    model.entities.credential = { id: credential.id, consumer: { id: consumer.id } };
    model.headers.set('x-consumer-id', [consumer.id]);
    if (consumer.username) model.headers.set('x-consumer-username', [consumer.username]);
    model.headers.set('x-credential-identifier', [credential.id]);
    return null;
  }

  /** mp_rpc.lua handle_event + bridge_loop: HandleEvent, then answer PDK calls until "ret". */
  private async runEvent(external: ExternalPlugin, plugin: PluginEntity, model: RequestModel, phase: Phase, retries = 3): Promise<void> {
    const instanceId = await this.instanceFor(external, plugin);
    let reply: { EventId: number; Data?: unknown };
    try {
      reply = (await external.rpc.call('plugin.HandleEvent', { InstanceId: instanceId, EventName: phase })) as typeof reply;
    } catch (error) {
      // Kong resets the instance cache and retries on "no plugin instance" (without a bound; we stop at 3).
      if (error instanceof RpcError && /no plugin instance/i.test(error.message) && retries > 0) {
        this.log.warn(error.message);
        external.instances.clear();
        return this.runEvent(external, plugin, model, phase, retries - 1);
      }
      throw error;
    }
    for (;;) {
      const data = reply.Data;
      if (data === 'ret') return;
      const { Method: method, Args: args } = (data ?? {}) as { Method?: string; Args?: unknown };
      if (typeof method !== 'string') throw new RpcError(`unexpected step data from ${external.info.Name}`);
      const answer = model.call(external.info.Name, method, Array.isArray(args) ? args : [args]);
      // Kong never answers exit: in access the response is delayed and the event is abandoned.
      if (method === 'kong.response.exit' || method === 'kong.response.error') return;
      const step = answer.data === undefined ? { EventId: reply.EventId } : { EventId: reply.EventId, Data: answer.data };
      reply = (await external.rpc.call(answer.stepMethod, step)) as typeof reply;
    }
  }

  /**
   * plugin.lua get_instance_id: one instance per plugin entity; a request that finds another one
   * starting it waits for that instance instead of starting its own.
   */
  private instanceFor(external: ExternalPlugin, plugin: PluginEntity): Promise<number> {
    const cached = external.instances.get(plugin.id);
    if (cached) return cached;
    const starting = this.startInstance(external, plugin);
    external.instances.set(plugin.id, starting);
    starting.catch(() => external.instances.delete(plugin.id));
    return starting;
  }

  private async startInstance(external: ExternalPlugin, plugin: PluginEntity): Promise<number> {
    // plugins_iterator.lua get_plugin_config: the fields Kong adds to the config it sends.
    const config = {
      ...plugin.config,
      ...(plugin.route ? { route_id: plugin.route.id } : {}),
      ...(plugin.service ? { service_id: plugin.service.id } : {}),
      ...(plugin.consumer ? { consumer_id: plugin.consumer.id } : {}),
      __plugin_id: plugin.id,
      __ws_id: '00000000-0000-0000-0000-000000000000',
      __key__: `plugins:${plugin.name}:${plugin.route?.id ?? ''}:${plugin.service?.id ?? ''}:${plugin.consumer?.id ?? ''}::`,
      __seq__: ++this.sequence,
    };
    try {
      const status = (await external.rpc.call('plugin.StartInstance', { Name: external.info.Name, Config: JSON.stringify(config) })) as { Id: number };
      return status.Id;
    } catch (error) {
      // plugin.lua: a failed StartInstance raises a Lua error (in access: 500 "An unexpected error occurred").
      throw new LuaError(`starting instance: ${(error as Error).message}`);
    }
  }

  /** Proxies to the service; unbuffered when the route says response_buffering: false or upstream sends X-Accel-Buffering: no. */
  private proxy(match: RouteMatch, model: RequestModel, response: http.ServerResponse, started: number): Promise<void> {
    const body = model.upstreamBody ?? model.body;
    const headers: Record<string, string | string[]> = {};
    for (const [name, values] of model.headers) if (!HOP_BY_HOP.has(name)) headers[name] = values.length === 1 ? values[0]! : values;
    headers.host = `${match.service.host}:${match.service.port}`;
    headers['x-forwarded-for'] = model.clientIp;
    headers['x-forwarded-proto'] = 'http';
    headers['x-forwarded-path'] = model.path;
    headers['content-length'] = String(body.length);
    const requestId = randomUUID().replace(/-/g, '');
    headers['x-kong-request-id'] = requestId;
    const accessDone = Date.now();

    return new Promise((resolve) => {
      const upstream = http.request(
        { host: match.service.host, port: match.service.port, method: model.method, path: match.upstreamPath + (model.query ? `?${model.query}` : ''), headers, timeout: match.service.read_timeout },
        (upstreamResponse) => {
          const outgoing: Record<string, string | string[]> = {};
          for (const [name, value] of Object.entries(upstreamResponse.headers)) if (value !== undefined && !HOP_BY_HOP.has(name)) outgoing[name] = value;
          outgoing['x-kong-upstream-latency'] = String(Date.now() - accessDone);
          outgoing['x-kong-proxy-latency'] = String(accessDone - started);
          outgoing['via'] = '1.1 kong/3.9.1 (stand-in)';
          outgoing['x-kong-request-id'] = requestId;
          const buffered = match.route.response_buffering && upstreamResponse.headers['x-accel-buffering'] !== 'no';
          if (buffered) {
            // nginx proxy_buffering on: the model holds the whole answer back, the worst case for SSE.
            readBody(upstreamResponse).then(
              (whole) => {
                delete outgoing['transfer-encoding'];
                response.writeHead(upstreamResponse.statusCode ?? 502, { ...outgoing, 'content-length': String(whole.length) });
                response.end(whole, resolve);
              },
              () => (response.destroy(), resolve()),
            );
            return;
          }
          response.writeHead(upstreamResponse.statusCode ?? 502, outgoing);
          response.flushHeaders();
          upstreamResponse.on('data', (chunk: Buffer) => response.write(chunk));
          upstreamResponse.on('end', () => response.end(resolve));
          // An upstream that dies mid-answer: nginx closes the client connection (no clean end).
          upstreamResponse.on('error', () => (response.destroy(), resolve()));
          upstreamResponse.on('aborted', () => (response.destroy(), resolve()));
          response.on('close', () => {
            if (!response.writableFinished) upstream.destroy();
            resolve();
          });
        },
      );
      upstream.on('timeout', () => upstream.destroy(new Error('timeout')));
      upstream.on('error', (error) => {
        if (response.headersSent) {
          response.destroy();
          return resolve();
        }
        const timedOut = error.message === 'timeout';
        sendExit(response, jsonExit(timedOut ? 504 : 502, { message: timedOut ? 'The upstream server is timing out' : 'An invalid response was received from the upstream server' }));
        resolve();
      });
      upstream.end(body);
    });
  }
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'content-length', 'host']);

function jsonExit(status: number, body: unknown, headers: Record<string, string> = {}): ExitResponse {
  return { status, body: Buffer.from(JSON.stringify(body)), headers: { 'content-type': 'application/json; charset=utf-8', ...headers } };
}

function sendExit(response: http.ServerResponse, exit: ExitResponse): void {
  response.writeHead(exit.status, { ...exit.headers, 'content-length': String(exit.body.length), 'x-kong-response-latency': '0', server: 'kong/3.9.1 (stand-in)' });
  response.end(exit.body);
}

function readBody(stream: NodeJS.ReadableStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

function finished(response: http.ServerResponse): Promise<void> {
  if (response.writableFinished || response.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    response.once('finish', resolve);
    response.once('close', resolve);
  });
}
