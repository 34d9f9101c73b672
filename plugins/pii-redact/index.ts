// Kong glue for pii-redact: keeps personal data in prompts from reaching providers.
import { definePlugin } from '../kong/define-plugin';
import { piiRedactConfig } from './config';

export const { Name, Version, Priority, Schema, Plugin, parseConfig } = definePlugin({
  name: 'pii-redact',
  priority: 903,
  config: piiRedactConfig,
  failMode: (config) => config.fail_mode,
  // Passes requests through (attesting that it ran) until its issue fills the policy in.
  access: async () => {},
});
