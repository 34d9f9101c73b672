// The fields Kong adds to every plugin config it sends in StartInstance, split from the plugin's own.

/** Where a plugin instance is configured, from the fields Kong adds to its config. */
export interface PluginScope {
  pluginId: string | null;
  routeId: string | null;
  serviceId: string | null;
  consumerId: string | null;
}

/**
 * Kong's plugins iterator adds these to a plugin's config before StartInstance
 * (kong/runloop/plugins_iterator.lua): the scope ids, the plugin id and cache bookkeeping.
 */
const KONG_ADDED_FIELDS = ['route_id', 'service_id', 'consumer_id', 'consumer_group_id', '__plugin_id', '__seq__', '__key__', 'plugin_instance_name'];

export function splitKongFields(raw: Record<string, unknown>): { scope: PluginScope; config: Record<string, unknown> } {
  const config: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    // Kong's JSON encoding turns Lua nil-able tables into `{}` or leaves `null`: both mean "absent".
    if (!KONG_ADDED_FIELDS.includes(key) && value !== null) config[key] = value;
  }
  return {
    scope: {
      pluginId: idOf(raw.__plugin_id),
      routeId: idOf(raw.route_id),
      serviceId: idOf(raw.service_id),
      consumerId: idOf(raw.consumer_id),
    },
    config,
  };
}

function idOf(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

/** Does a plugin configured at `scope` run on a request to this route, service and consumer? */
export function scopeApplies(
  scope: PluginScope,
  request: { routeId: string | null; serviceId: string | null; consumerId: string | null },
): boolean {
  if (scope.routeId !== null && scope.routeId !== request.routeId) return false;
  if (scope.serviceId !== null && scope.serviceId !== request.serviceId) return false;
  if (scope.consumerId !== null && scope.consumerId !== request.consumerId) return false;
  return true;
}
