// One process serving all our plugins to Kong: kong-pdk's RPC server with one socket per plugin.
import path from 'node:path';
import type { Server as NetServer } from 'node:net';
import { logger } from '../core/logger';
import type { KongPluginModule } from './define-plugin';
import { splitKongFields } from './plugin-scope';
import type { LiveInstance } from './runtime';

/*
 * kong-pdk's lib/mod.js calls `require('ts-node').register()` when loaded, to compile .ts plugins
 * on the fly. We ship compiled JavaScript, and that call loads the TypeScript compiler into every
 * start, query commands included (measured in a production install: +0.13 s and +53 MB RSS), hooks
 * `require` for .ts files process-wide, and crashes outright with TypeScript 7 (no JS compiler API).
 * So kong-pdk gets a register() that does nothing.
 */
const kongPdkDirectory = path.dirname(require.resolve('kong-pdk/package.json'));
const tsNode = require.resolve('ts-node', { paths: [kongPdkDirectory] });
require.cache[tsNode] = { id: tsNode, filename: tsNode, loaded: true, exports: { register: () => undefined } } as NodeJS.Module;

/* eslint-disable @typescript-eslint/no-require-imports */
const KongPdkServer: new (directory: undefined, logger: unknown, expireSeconds?: number) => KongPdkServerShape = require('kong-pdk/server');
const KongPdkListener: new (server: unknown, socketPath: string) => { serve(): NetServer } = require('kong-pdk/listener');
const { Module }: { Module: new (name: string, path: undefined, literal: KongPluginModule) => unknown } = require('kong-pdk/lib/mod');
/* eslint-enable @typescript-eslint/no-require-imports */

interface KongPdkServerShape {
  plugins: Map<string, unknown>;
  instances: Map<number, { name: string; config: Record<string, unknown> }>;
  instanceID: number;
  events: Map<number, unknown>;
  HandleEvent(event: unknown): Promise<StepReply>;
  step(data: unknown, isError: boolean): Promise<StepReply>;
  GetPluginInfo(name: string): Promise<PluginInfo>;
  close(): void;
}

interface StepReply {
  Data: unknown;
  EventId: number;
}

export interface PluginInfo {
  Name: string;
  Version: string;
  Phases: string[];
  Priority: number;
  Schema: unknown;
}

/** The methods after which Kong never sends another Step for the event (mp_rpc.lua; kong-pdk pdk.js). */
const NON_RETURNING_METHODS = new Set(['kong.response.exit', 'kong.response.error']);

/**
 * kong-pdk's logger interface, onto pino. kong-pdk logs every RPC with its arguments at debug
 * (that is what `-v` turns on): request bodies. Those lines are cut down to the method name.
 */
const kongPdkLogger = (() => {
  const log = logger.child({ component: 'kong-pdk' });
  const text = (parts: unknown[]) => parts.map(String).join(' ').replace(/ args: .*$/s, '');
  return {
    debug: (...parts: unknown[]) => log.debug(text(parts)),
    info: (...parts: unknown[]) => log.info(text(parts)),
    warn: (...parts: unknown[]) => log.warn(text(parts)),
    error: (...parts: unknown[]) => log.error(text(parts)),
  };
})();

export class AiPluginServer extends KongPdkServer {
  constructor(modules: readonly KongPluginModule[]) {
    // Instances idle for 60 s are dropped; Kong re-creates them on "no plugin instance".
    super(undefined, kongPdkLogger, 60);
    // kong-pdk numbers instances from 0 in every process. Kong caches instance ids across our restarts,
    // so a restarted server could take a stale id for another plugin's instance: start from the clock.
    this.instanceID = Date.now();
    for (const module of modules) this.plugins.set(module.Name, new Module(module.Name, undefined, module));
  }

  /** What Kong sees in the query command's output for one plugin. */
  info(name: string): Promise<PluginInfo> {
    return this.GetPluginInfo(name);
  }

  /** Scopes read once per instance: llm-proxy asks for them on every request. */
  private readonly scopes = new WeakMap<object, LiveInstance>();

  liveInstances(): LiveInstance[] {
    return [...this.instances.values()].map((instance) => {
      let live = this.scopes.get(instance);
      if (!live) {
        live = { name: instance.name, scope: splitKongFields(instance.config ?? {}).scope };
        this.scopes.set(instance, live);
      }
      return live;
    });
  }

  get pendingEvents(): number {
    return this.events.size;
  }

  override async HandleEvent(event: unknown): Promise<StepReply> {
    return this.forgetEndedEvent(await super.HandleEvent(event));
  }

  override async step(data: unknown, isError: boolean): Promise<StepReply> {
    return this.forgetEndedEvent(await super.step(data, isError));
  }

  /**
   * kong-pdk deletes an event only when the phase returns "ret"; after `kong.response.exit` Kong
   * never steps the event again, so kong-pdk would keep it forever. Forget it here.
   */
  private forgetEndedEvent(reply: StepReply): StepReply {
    const method = (reply.Data as { Method?: unknown } | null)?.Method;
    if (typeof method === 'string' && NON_RETURNING_METHODS.has(method)) this.events.delete(reply.EventId);
    return reply;
  }

  /** Listens on one unix socket per plugin, all served by this one server. */
  listen(sockets: ReadonlyMap<string, string>): NetServer[] {
    return [...sockets.values()].map((socketPath) => new KongPdkListener(this, socketPath).serve());
  }
}
