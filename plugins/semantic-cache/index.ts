// Kong glue for semantic-cache: answers repeated questions from cache.
import { definePlugin } from '../kong/define-plugin';
import { semanticCacheConfig } from './config';

export const { Name, Version, Priority, Schema, Plugin, parseConfig } = definePlugin({
  name: 'semantic-cache',
  priority: 902,
  config: semanticCacheConfig,
  failMode: (config) => config.fail_mode,
  // Passes requests through (attesting that it ran) until its issue fills the policy in.
  access: async () => {},
});
