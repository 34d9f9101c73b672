// Kong glue for llm-proxy: one OpenAI-compatible front door that sends each request to a provider.
import { GatewayError, badRequest } from '../core/errors';
import { resolveVaultReference } from '../core/vault';
import { CONTEXT_HEADER } from '../core/connector/connector';
import { definePlugin, type AccessInput } from '../kong/define-plugin';
import { missingPolicies, anyConsumerScopedPolicy } from '../kong/expected-policies';
import type { KongRoute, Pdk } from '../kong/pdk';
import { runtime } from '../kong/runtime';
import type { RequestContext } from '../core/context/request-context-store';
import { llmProxyConfig, targetNames, type LlmProxyConfig } from './config';
import { parseClientRequest } from './parse-client-request';
import { planProviderCalls, type OrderedTarget } from './plan-provider-calls';
import { orderTargets, type TargetView } from './order-targets';
import { admits, healthOf } from '../core/routing/target-health';

export const { Name, Version, Priority, Schema, Plugin, parseConfig } = definePlugin({
  name: 'llm-proxy',
  priority: 900,
  config: llmProxyConfig,
  // Without llm-proxy's plan the connector refuses the request anyway; say why instead.
  failMode: () => 'closed',
  access: async ({ pdk, config, scope, context }: AccessInput<LlmProxyConfig>) => {
    const route = await requireAllPolicies(pdk, context);
    const client = parseClientRequest(context.rawBody, config.max_request_body_bytes, config.route_type);
    const { targets, routing } = chooseTargets(config, scope.pluginId ?? 'unscoped', client.request.model);
    context.plan = planProviderCalls(client, config, targets, routing, scope.routeId ?? route?.id ?? 'unknown');
    await pdk.setUpstreamHeaders({ [CONTEXT_HEADER]: context.id });
  },
  log: async ({ context }) => {
    if (context) runtime.contexts.markLogged(context.id);
  },
});

/** Round-robin running totals per plugin entity: they must outlive instances, which Kong re-creates. */
const roundRobinStates = new Map<string, Map<string, number[]>>();

/**
 * The targets that may serve a request for `model` (an alias's members, or all), ordered from their
 * live health and the balancing algorithm.
 */
function chooseTargets(config: LlmProxyConfig, pluginId: string, model: string | undefined): { targets: OrderedTarget[]; routing: string } {
  const names = targetNames(config.targets);
  const keys = names.map((name, index) => `${pluginId}/${index}/${name}`);
  const members = model === undefined ? undefined : config.aliases[model];
  if (members === undefined && config.strict_models) {
    const known = Object.keys(config.aliases);
    throw badRequest(`The model '${model ?? ''}' does not exist on this route; use one of: ${known.join(', ') || '(none configured)'}.`, 'model_not_found');
  }
  const eligible = new Set(members ?? names);
  const views: TargetView[] = config.targets.flatMap((target, index) => {
    if (!eligible.has(names[index]!)) return [];
    const health = healthOf(keys[index]!);
    return [{ index, priority: target.priority, weight: target.weight, inFlight: health.inFlight, latencyEwmaMs: health.latencyEwmaMs, admitted: admits(health) }];
  });
  let roundRobin = roundRobinStates.get(pluginId);
  if (!roundRobin) roundRobinStates.set(pluginId, (roundRobin = new Map()));
  const ordered = orderTargets(views, config.balancer.algorithm, roundRobin);
  const decision = members === undefined ? ordered.decision : `alias=${model};${ordered.decision}`;
  const order = ordered.order;
  const targets = order.map((index) => {
    const target = config.targets[index]!;
    return { target, key: keys[index]!, name: names[index]!, apiKey: target.api_key === undefined ? null : resolveVaultReference(target.api_key) };
  });
  return { targets, routing: decision };
}

/**
 * Refuses the request when a policy plugin that applies to it did not run (Kong failed it open).
 * Returns the route when it had to be looked up.
 */
async function requireAllPolicies(pdk: Pdk, context: RequestContext): Promise<KongRoute | null> {
  const instances = [...runtime.liveInstances()];
  // Costs nothing when every policy started with us has attested: only look Kong up when needed.
  const unattested = instances.filter((instance) => instance.name !== 'llm-proxy' && !context.attested.has(instance.name));
  if (unattested.length === 0) return null;
  const route = await pdk.route();
  const consumer = anyConsumerScopedPolicy(unattested) ? await pdk.consumer() : null;
  const missing = missingPolicies(unattested, { routeId: route?.id ?? null, serviceId: route?.service?.id ?? null, consumerId: consumer?.id ?? null }, context.attested);
  if (missing.length === 0) return route;
  throw new GatewayError(`AI gateway policies configured on this route did not run: ${missing.join(', ')}.`, {
    status: 500,
    type: 'server_error',
    code: 'policy_not_applied',
  });
}
