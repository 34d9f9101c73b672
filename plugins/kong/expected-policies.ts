// Which policy plugins Kong runs on a request, from the instances it has started with us.
import { POLICY_PLUGINS } from './define-plugin';
import { scopeApplies } from './plugin-scope';
import type { LiveInstance } from './runtime';

export interface RequestScope {
  routeId: string | null;
  serviceId: string | null;
  consumerId: string | null;
}

/**
 * Kong starts an instance of every plugin configured for a request before that plugin's access
 * phase runs (kong/runloop/plugin_servers/plugin.lua), and policies run before llm-proxy. So by the
 * time llm-proxy runs, each policy that applies to this request has a live instance whose scope
 * matches. If its access phase did not attest, Kong skipped it (fail-open): refuse the request.
 */
export function missingPolicies(instances: Iterable<LiveInstance>, request: RequestScope, attested: ReadonlySet<string>): string[] {
  const missing = new Set<string>();
  for (const instance of instances) {
    if (!(POLICY_PLUGINS as readonly string[]).includes(instance.name)) continue;
    if (attested.has(instance.name) || !scopeApplies(instance.scope, request)) continue;
    missing.add(instance.name);
  }
  return [...missing].sort();
}

/** True when some live policy instance is scoped to a consumer (then the consumer must be looked up). */
export function anyConsumerScopedPolicy(instances: Iterable<LiveInstance>): boolean {
  for (const instance of instances) if (instance.scope.consumerId !== null && instance.name !== 'llm-proxy') return true;
  return false;
}
