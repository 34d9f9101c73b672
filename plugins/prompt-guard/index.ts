// Kong glue for prompt-guard: blocks prompt injection, deny-listed content and oversize prompts.
import { definePlugin } from '../kong/define-plugin';
import { promptGuardConfig } from './config';

export const { Name, Version, Priority, Schema, Plugin, parseConfig } = definePlugin({
  name: 'prompt-guard',
  priority: 904,
  config: promptGuardConfig,
  failMode: (config) => config.fail_mode,
  // Passes requests through (attesting that it ran) until its issue fills the policy in.
  access: async () => {},
});
