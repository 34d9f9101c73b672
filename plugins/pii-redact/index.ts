// Kong glue for pii-redact: keeps personal data in prompts from reaching providers, and restores it in answers.
import type { CountryCode } from 'libphonenumber-js/max';
import { GatewayError } from '../core/errors';
import { parseJsonObjectBody } from '../core/http/parse-json';
import { logger } from '../core/logger';
import { recordPiiFindings } from '../core/metrics';
import { definePlugin, type AccessInput } from '../kong/define-plugin';
import { piiRedactConfig, type PiiRedactConfig } from './config';
import { redactPrompt, type RedactOptions } from './redact-prompt';
import { restoringHooks } from './restore-response';
import type { PiiEntity } from '../core/pii/pii-entities';

export const { Name, Version, Priority, Schema, Plugin, parseConfig } = definePlugin({
  name: 'pii-redact',
  priority: 903,
  config: piiRedactConfig,
  failMode: (config) => config.fail_mode,
  access: async ({ config, context }: AccessInput<PiiRedactConfig>) => {
    const body = parseJsonObjectBody(context.rawBody);
    // Not JSON (or not an object): llm-proxy refuses it with a 400 naming the problem; nothing to scan here.
    if (body === null) return;
    const redaction = redactPrompt(body, optionsOf(config));
    if (redaction.counts.size > 0) {
      const found = [...redaction.counts.values()];
      recordPiiFindings(found);
      logger.info({ plugin: 'pii-redact', found: found.map(({ entity, action, count }) => ({ entity, action, count })) }, 'pii-redact: personal data found');
    }
    if (redaction.blocked.length > 0) {
      throw new GatewayError(`The request contains data this route does not accept: ${redaction.blocked.join(', ')}.`, {
        status: 400,
        type: 'invalid_request_error',
        code: 'pii_blocked',
      });
    }
    if (redaction.body === null) return;
    context.rawBody = Buffer.from(redaction.body, 'utf8');
    if (redaction.map.size > 0) context.hooks.push({ name: 'pii-redact', ...restoringHooks(redaction.map) });
  },
});

/** Options per config object: Kong re-creates instances on config changes, so caching by identity is safe. */
const optionsCache = new WeakMap<PiiRedactConfig, RedactOptions>();

function optionsOf(config: PiiRedactConfig): RedactOptions {
  let options = optionsCache.get(config);
  if (!options) {
    const customActions = new Map(config.custom_entities.map((entity) => [entity.name, entity.action]));
    options = {
      entities: new Set<PiiEntity>(config.entities),
      custom: config.custom_entities.map((entity) => ({ name: entity.name, pattern: new RegExp(entity.pattern, 'g') })),
      allow: new Set(config.allow_list.map((value) => value.toLowerCase())),
      defaultCountry: config.default_phone_region as CountryCode,
      actionOf: (entity) => customActions.get(entity) ?? config.actions[entity as PiiEntity] ?? 'mask',
      roles: new Set(config.roles),
      history: config.history,
    };
    optionsCache.set(config, options);
  }
  return options;
}
