// Process-wide singletons shared by all plugin instances (Kong re-creates instances, never this).
import { RequestContextStore } from '../core/context/request-context-store';
import type { PluginScope } from './plugin-scope';

/** A live plugin instance as the server knows it: enough to tell which policies a route expects. */
export interface LiveInstance {
  name: string;
  scope: PluginScope;
}

export const runtime = {
  contexts: new RequestContextStore(),
  /** Replaced by the plugin server at start; lists the instances Kong has started and not closed. */
  liveInstances: (): Iterable<LiveInstance> => [],
};
