// Kong's PDK as the stand-in serves it to a plugin over RPC: an in-memory model of one request.
import type { Logger } from './stand-in-log';

/** A Lua error raised inside a PDK function: Kong does not catch it (mp_rpc.lua has no pcall). */
export class LuaError extends Error {}

export type Phase = 'rewrite' | 'access' | 'log';

export interface RequestEntities {
  route: Record<string, unknown>;
  service: Record<string, unknown>;
  consumer: Record<string, unknown> | null;
  credential: Record<string, unknown> | null;
  /** Kong sets ngx.ctx.authenticated_consumer_groups on authentication; null when none. */
  consumerGroups: Array<Record<string, unknown>> | null;
}

export interface ExitResponse {
  status: number;
  body: Buffer;
  headers: Record<string, string | string[]>;
}

/** What a PDK call answers: the Step method Kong would use, and the value (undefined = Lua nil). */
export interface PdkAnswer {
  stepMethod: string;
  data: unknown;
}

/** nginx's default client_body_buffer_size: larger bodies are spilled to a temp file. */
export const CLIENT_BODY_BUFFER_SIZE = 8 * 1024;

// kong/pdk/private/phases.lua: PHASES.request and the explicit lists used by each module.
const REQUEST_PHASES: Phase[] = ['rewrite', 'access', 'log'];
const REWRITE_ACCESS: Phase[] = ['rewrite', 'access'];
const ACCESS_AND_AFTER: Phase[] = ['access', 'log'];
const EXIT_PHASES: Phase[] = ['rewrite', 'access'];
const LOG_ONLY: Phase[] = ['log'];

/**
 * One request as Kong holds it. Headers are a multimap with lower-case names (ngx.req.get_headers);
 * `kong.service.request.set_header` changes them in place, so later plugins read the new value,
 * as in Kong. In the log phase Kong serves the PDK from a snapshot in a timer, where calls that
 * need the live request fail ("API disabled in the current context").
 */
export class RequestModel {
  readonly headers = new Map<string, string[]>();
  readonly shared = new Map<string, unknown>();
  body: Buffer;
  upstreamBody: Buffer | null = null;
  exit: ExitResponse | null = null;
  responseStatus = 0;
  responseHeaders: Record<string, string | string[]> = {};
  phase: Phase = 'rewrite';

  constructor(
    readonly method: string,
    readonly path: string,
    readonly query: string,
    headers: Record<string, string | string[] | undefined>,
    body: Buffer,
    readonly clientIp: string,
    readonly entities: RequestEntities,
    private readonly log: Logger,
  ) {
    for (const [name, value] of Object.entries(headers)) {
      if (value !== undefined) this.headers.set(name.toLowerCase(), Array.isArray(value) ? [...value] : [value]);
    }
    this.body = body;
  }

  /** Serves one PDK call the way mp_rpc.lua's call_pdk_method does. Throws LuaError on a Lua error. */
  call(plugin: string, method: string, args: unknown[]): PdkAnswer {
    const handler = this.methods[method];
    if (!handler) {
      this.log.error(`[kong] mp_rpc.lua:116 [${plugin}] could not find pdk method: ${method}`);
      return { stepMethod: 'plugin.Step', data: undefined };
    }
    const [phases, stepMethod, run] = handler;
    if (phases && !phases.includes(this.phase)) {
      throw new LuaError(`function cannot be called in ${this.phase} phase (only in: ${phases.join(', ')})`);
    }
    return { stepMethod, data: run(args, plugin) };
  }

  private firstHeader(name: unknown): string | undefined {
    if (typeof name !== 'string') throw new LuaError('header name must be a string');
    return this.headers.get(name.toLowerCase().replace(/_/g, '-'))?.[0];
  }

  private liveOnly(): void {
    if (this.phase === 'log') throw new LuaError('API disabled in the current context');
  }

  private setHeader(name: unknown, value: unknown): void {
    if (typeof name !== 'string') throw new LuaError('header name must be a string');
    if (typeof value !== 'string' && typeof value !== 'number' && !Array.isArray(value)) throw new LuaError(`invalid header value for "${name}": got ${typeof value}, expected string, number or table`);
    this.headers.set(name.toLowerCase(), Array.isArray(value) ? value.map(String) : [String(value)]);
  }

  /** method name -> [allowed phases (null = any), the Step method Kong answers with, implementation] */
  private readonly methods: Record<string, [Phase[] | null, string, (args: unknown[], plugin: string) => unknown]> = {
    'kong.request.get_raw_body': [
      [...REWRITE_ACCESS],
      'plugin.Step',
      ([maxAllowedFileSize]) => {
        this.liveOnly();
        if (this.body.length > CLIENT_BODY_BUFFER_SIZE) {
          // Spilled to a temp file: only read with a size argument (0 = unlimited), kong/pdk/request.lua.
          // Without one Kong gets nil and fails packing it as bin (mp_rpc.lua fix_raw): a Lua error.
          if (typeof maxAllowedFileSize !== 'number') throw new LuaError('bad argument #1 to \'#\' (table expected, got nil)');
          if (maxAllowedFileSize > 0 && this.body.length > maxAllowedFileSize) throw new LuaError('bad argument #1 to \'#\' (table expected, got nil)');
        }
        return new Uint8Array(this.body); // mp_rpc.lua fix_raw: raw bodies go out as msgpack bin
      },
    ],
    'kong.request.get_header': [REQUEST_PHASES, 'plugin.Step', ([name]) => this.firstHeader(name)],
    'kong.request.get_headers': [
      REQUEST_PHASES,
      'plugin.StepMultiMap',
      ([max]) => {
        const limit = typeof max === 'number' ? max : 100;
        if (limit < 1 || limit > 1000) throw new LuaError('max_headers must be >= 1 and <= 1000');
        return Object.fromEntries([...this.headers.entries()].slice(0, limit));
      },
    ],
    'kong.request.get_method': [REQUEST_PHASES, 'plugin.Step', () => (this.liveOnly(), this.method)],
    'kong.request.get_path': [REQUEST_PHASES, 'plugin.Step', () => (this.liveOnly(), this.path)],
    'kong.request.get_raw_query': [REQUEST_PHASES, 'plugin.Step', () => (this.liveOnly(), this.query)],
    'kong.client.get_ip': [null, 'plugin.Step', () => (this.liveOnly(), this.clientIp)],
    'kong.client.get_forwarded_ip': [null, 'plugin.Step', () => (this.liveOnly(), this.clientIp)],
    'kong.client.get_consumer': [ACCESS_AND_AFTER, 'plugin.StepConsumer', () => this.entities.consumer ?? undefined],
    'kong.client.get_credential': [ACCESS_AND_AFTER, 'plugin.StepCredential', () => this.entities.credential ?? undefined],
    'kong.client.get_consumer_groups': [ACCESS_AND_AFTER, 'plugin.Step', () => this.entities.consumerGroups ?? undefined],
    'kong.router.get_route': [ACCESS_AND_AFTER, 'plugin.StepRoute', () => this.entities.route],
    'kong.router.get_service': [ACCESS_AND_AFTER, 'plugin.StepService', () => this.entities.service],
    // Bridge-only names (kong/runloop/plugin_servers/plugin.lua exposed_api): no phase check.
    'kong.ctx.shared.get': [null, 'plugin.Step', ([key]) => this.shared.get(String(key))],
    'kong.ctx.shared.set': [null, 'plugin.Step', ([key, value]) => void this.shared.set(String(key), value)],
    'kong.nginx.get_var': [null, 'plugin.Step', ([name]) => (this.liveOnly(), name === 'request_uri' ? this.path : undefined)],
    'kong.service.request.set_header': [[...REWRITE_ACCESS], 'plugin.Step', ([name, value]) => void this.setHeader(name, value)],
    'kong.service.request.set_headers': [
      REWRITE_ACCESS,
      'plugin.Step',
      ([headers]) => {
        if (headers === null || typeof headers !== 'object') throw new LuaError('headers must be a table');
        for (const [name, value] of Object.entries(headers)) this.setHeader(name, value);
      },
    ],
    'kong.service.request.clear_header': [REWRITE_ACCESS, 'plugin.Step', ([name]) => void this.headers.delete(String(name).toLowerCase())],
    'kong.service.request.set_raw_body': [
      [...REWRITE_ACCESS],
      'plugin.Step',
      ([body]) => {
        if (typeof body !== 'string' && !(body instanceof Uint8Array)) throw new LuaError('body must be a string');
        this.upstreamBody = Buffer.from(body as string);
      },
    ],
    'kong.response.exit': [
      EXIT_PHASES,
      'plugin.Step',
      ([status, body, headers]) => {
        if (typeof status !== 'number' || status < 100 || status > 599) throw new LuaError('code must be a number between 100 and 599');
        this.exit = toExitResponse(status, body, headers);
      },
    ],
    'kong.response.get_status': [LOG_ONLY, 'plugin.Step', () => this.responseStatus],
    'kong.response.get_header': [LOG_ONLY, 'plugin.Step', ([name]) => firstOf(this.responseHeaders[String(name).toLowerCase()])],
    'kong.log.err': [null, 'plugin.Step', (args, plugin) => void this.log.error(`[${plugin}] ${args.map(String).join('')}`)],
    'kong.log.warn': [null, 'plugin.Step', (args, plugin) => void this.log.warn(`[${plugin}] ${args.map(String).join('')}`)],
    'kong.log.notice': [null, 'plugin.Step', (args, plugin) => void this.log.info(`[${plugin}] ${args.map(String).join('')}`)],
    'kong.log.info': [null, 'plugin.Step', (args, plugin) => void this.log.info(`[${plugin}] ${args.map(String).join('')}`)],
    'kong.log.debug': [null, 'plugin.Step', () => undefined],
  };
}

function firstOf(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** kong/pdk/response.lua exit: a table body is JSON-encoded with Content-Type application/json. */
function toExitResponse(status: number, body: unknown, headers: unknown): ExitResponse {
  const responseHeaders: Record<string, string | string[]> = {};
  if (headers !== null && typeof headers === 'object') {
    for (const [name, value] of Object.entries(headers)) responseHeaders[name.toLowerCase()] = Array.isArray(value) ? value.map(String) : String(value);
  }
  let bytes = Buffer.alloc(0);
  if (typeof body === 'string' || body instanceof Uint8Array) bytes = Buffer.from(body as string);
  else if (body !== null && body !== undefined) {
    if (typeof body !== 'object') throw new LuaError('body must be a nil, string or table');
    bytes = Buffer.from(JSON.stringify(body));
    responseHeaders['content-type'] ??= 'application/json; charset=utf-8';
  }
  return { status, body: bytes, headers: responseHeaders };
}
