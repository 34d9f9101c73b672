// Builds the module kong-pdk serves (Name, Version, Priority, Schema, Plugin) from a plugin's parts.
import { z } from 'zod';
import { GatewayError } from '../core/errors';
import type { RequestContext } from '../core/context/request-context-store';
import { kongConfigFields, type KongField } from './kong-schema';
import { Pdk, type KongBridge } from './pdk';
import { splitKongFields, type PluginScope } from './plugin-scope';
import { joinRequestContext, findRequestContext } from './request-context';
import { runtime } from './runtime';
import { runPhase, exitWithError, type FailMode } from './run-phase';

export const PLUGIN_VERSION = '0.1.0';

/** The four plugins that guard a request before llm-proxy sends it: each must attest it ran. */
export const POLICY_PLUGINS = ['prompt-guard', 'pii-redact', 'semantic-cache', 'token-limit'] as const;
export type PluginName = (typeof POLICY_PLUGINS)[number] | 'llm-proxy';

export interface AccessInput<Config> {
  pdk: Pdk;
  config: Config;
  scope: PluginScope;
  context: RequestContext;
}

export interface LogInput<Config> {
  pdk: Pdk;
  config: Config;
  /** Null when none of our access phases ran for the request (e.g. Kong rejected it first). */
  context: RequestContext | null;
}

export interface PluginDefinition<Schema extends z.ZodObject> {
  name: PluginName;
  priority: number;
  config: Schema;
  failMode: (config: z.output<Schema>) => FailMode;
  access: (input: AccessInput<z.output<Schema>>) => Promise<void>;
  log?: (input: LogInput<z.output<Schema>>) => Promise<void>;
}

/** What kong-pdk's Server expects of a plugin module. */
export interface KongPluginModule {
  Name: string;
  Version: string;
  Priority: number;
  Schema: Array<Record<string, KongField>>;
  Plugin: new (config: Record<string, unknown>) => object;
  /** Our addition: parses a config exactly as an instance would (used by tests and the stand-in's checks). */
  parseConfig: (config: unknown) => unknown;
}

export function definePlugin<Schema extends z.ZodObject>(definition: PluginDefinition<Schema>): KongPluginModule {
  type Config = z.output<Schema>;
  const isPolicy = (POLICY_PLUGINS as readonly string[]).includes(definition.name);

  class Plugin {
    readonly config: Config | null;
    readonly configError: GatewayError | null;
    readonly scope: PluginScope;

    /**
     * Never throws: a config that zod rejects yields an instance that refuses every request with an
     * OpenAI-shaped 500 naming the problem. A throw would fail StartInstance, and Kong would answer a
     * bare `{"message":"An unexpected error occurred"}` (kong/runloop/plugin_servers/plugin.lua).
     */
    constructor(raw: Record<string, unknown>) {
      const { scope, config } = splitKongFields(raw ?? {});
      this.scope = scope;
      const parsed = definition.config.safeParse(config);
      this.config = parsed.success ? parsed.data : null;
      this.configError = parsed.success
        ? null
        : new GatewayError(`The ${definition.name} plugin is misconfigured: ${z.prettifyError(parsed.error)}`, {
            status: 500,
            type: 'server_error',
            code: 'plugin_misconfigured',
          });
    }

    async access(kong: KongBridge): Promise<void> {
      const pdk = new Pdk(kong);
      const config = this.config;
      if (config === null) return exitWithError(pdk, this.configError!);
      let context: RequestContext | null = null;
      const attest = () => context?.attested.add(definition.name);
      await runPhase({
        plugin: definition.name,
        phase: 'access',
        failMode: definition.failMode(config),
        pdk,
        work: async () => {
          context = await joinRequestContext(pdk);
          await definition.access({ pdk, config, scope: this.scope, context });
          if (isPolicy) attest();
        },
        // Failing open is this plugin's explicit choice, so the connector must still let the request through.
        onFailOpen: attest,
      });
      // A request this plugin ended (block, error, cache hit) never reaches the connector: free it now.
      if (pdk.hasExited && context !== null) runtime.contexts.markLogged((context as RequestContext).id);
    }

    async runLog(kong: KongBridge): Promise<void> {
      const pdk = new Pdk(kong);
      const config = this.config;
      if (config === null || !definition.log) return;
      const log = definition.log;
      await runPhase({
        plugin: definition.name,
        phase: 'log',
        failMode: 'open',
        pdk,
        work: async () => log({ pdk, config, context: await findRequestContext(pdk) }),
      });
    }
  }
  // kong-pdk reports a phase to Kong when the class has a method of that name; only plugins with a log step get one.
  if (definition.log) Object.assign(Plugin.prototype, { log: Plugin.prototype.runLog });

  return {
    Name: definition.name,
    Version: PLUGIN_VERSION,
    Priority: definition.priority,
    Schema: kongConfigFields(definition.config),
    Plugin,
    parseConfig: (config: unknown) => definition.config.parse(config),
  };
}
