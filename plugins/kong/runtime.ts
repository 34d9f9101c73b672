// Process-wide singletons shared by all plugin instances (Kong re-creates instances, never this).
import { DEFAULT_STORE_OPTIONS, RequestContextStore } from '../core/context/request-context-store';
import { emptySummary, runEndHooks } from '../core/connector/stream-hooks';
import type { PluginScope } from './plugin-scope';

/** A live plugin instance as the server knows it: enough to tell which policies a route expects. */
export interface LiveInstance {
  name: string;
  scope: PluginScope;
}

export const runtime = {
  // A request removed before the connector served it (refused after admission, Kong never proxied,
  // swept) still ends its hooks, so reservations are released at once rather than by expiry.
  contexts: new RequestContextStore(DEFAULT_STORE_OPTIONS, (context) => void runEndHooks(context, { kind: 'not_sent' }, emptySummary(false))),
  /** Replaced by the plugin server at start; lists the instances Kong has started and not closed. */
  liveInstances: (): Iterable<LiveInstance> => [],
};
