// Kong glue for token-limit: token and cost budgets per consumer, credential, header or route.
import { definePlugin } from '../kong/define-plugin';
import { tokenLimitConfig } from './config';

export const { Name, Version, Priority, Schema, Plugin, parseConfig } = definePlugin({
  name: 'token-limit',
  priority: 901,
  config: tokenLimitConfig,
  failMode: (config) => config.fail_mode,
  // Passes requests through (attesting that it ran) until its issue fills the policy in.
  access: async () => {},
});
