// The plugins this server serves, highest priority (first to run) first.
import type { KongPluginModule } from './define-plugin';
import * as promptGuard from '../prompt-guard';
import * as piiRedact from '../pii-redact';
import * as semanticCache from '../semantic-cache';
import * as tokenLimit from '../token-limit';
import * as llmProxy from '../llm-proxy';

export const ALL_PLUGINS: readonly KongPluginModule[] = [promptGuard, piiRedact, semanticCache, tokenLimit, llmProxy];
