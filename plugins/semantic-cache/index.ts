// Kong glue for semantic-cache: answers repeated questions from cache, within one scope, after pii-redact.
import { logger } from '../core/logger';
import { recordCacheLookup } from '../core/metrics';
import { embedderFor, embedWithin } from '../core/embeddings/embedder';
import type { DispatchPlan, RequestContext } from '../core/context/request-context-store';
import { definePlugin, type AccessInput } from '../kong/define-plugin';
import type { Pdk } from '../kong/pdk';
import type { PluginScope } from '../kong/plugin-scope';
import { semanticCacheConfig, type SemanticCacheConfig } from './config';
import { parseCacheControl, type ClientCacheControl } from './cache-control';
import { cacheKeyOf } from './cache-key';
import { partitionKeysOf, scopeIdOf } from './partition-keys';
import { lookup, type Question, type SemanticSearch } from './lookup';
import { PartitionIndexes } from './partition-index';
import { redisCacheStoreFor, type StoredEntry } from './stores/redis-cache-store';

/** The response headers a client reads (documented in README). */
export const CACHE_HEADERS = { status: 'x-cache-status', similarity: 'x-cache-similarity', age: 'age' } as const;

/** This node's indexes of every partition it has looked up, shared by all instances. */
const indexes = new PartitionIndexes();

export const { Name, Version, Priority, Schema, Plugin, parseConfig } = definePlugin({
  name: 'semantic-cache',
  priority: 902,
  config: semanticCacheConfig,
  failMode: (config) => config.fail_mode,
  access: async ({ pdk, config, scope, context }: AccessInput<SemanticCacheConfig>) => {
    const control = parseCacheControl(await pdk.header('cache-control'));
    if (control.noStore) return setStatus(context, 'Bypass');
    const scopeValue = await scopeValueOf(config, scope, pdk);
    if (scopeValue === null) return setStatus(context, 'Bypass');
    const scopeId = scopeIdOf(config.namespace ?? scope.pluginId ?? 'default', config.scope, scopeValue);
    // The lookup needs llm-proxy's parsed request (either client format, in OpenAI's shape), so it runs after planning.
    context.admissions.push((plan) => admit(plan, config, context, scopeId, control));
  },
});

/** Questions longer than this are matched exactly only: embedding them would hold the model for long. */
const MAX_EMBEDDED_CHARACTERS = 2000;

/** The lookup, run by llm-proxy after planning; a failure of its own follows the plugin's fail_mode. */
async function admit(plan: DispatchPlan, config: SemanticCacheConfig, context: RequestContext, scopeId: string, control: ClientCacheControl): Promise<void> {
  try {
    await lookUpAndRegisterFill(plan, config, context, scopeId, control);
  } catch (error) {
    if (config.fail_mode === 'closed') throw error;
    logger.warn({ plugin: 'semantic-cache', err: { message: (error as Error).message } }, 'semantic-cache failed; the request bypasses the cache (fail_mode open)');
    setStatus(context, 'Bypass');
  }
}

async function lookUpAndRegisterFill(plan: DispatchPlan, config: SemanticCacheConfig, context: RequestContext, scopeId: string, control: ClientCacheControl): Promise<void> {
  if (plan.operation !== 'chat') return setStatus(context, 'Bypass');
  const key = cacheKeyOf(plan.request, {
    turns: config.turns,
    skipLongerConversations: config.skip_longer_conversations,
    maxTemperature: config.max_temperature,
    servingModels: plan.attempts.map((attempt) => `${attempt.provider}:${attempt.model}`),
  });
  if (!key.cacheable) {
    logger.debug({ plugin: 'semantic-cache', reason: key.reason }, 'semantic-cache: not cacheable');
    return setStatus(context, 'Bypass');
  }
  const ttlMs = config.ttl_seconds * 1000;
  const embedder = config.match === 'semantic' ? embedderFor(config.embedder) : null;
  // Hard partitions: scope, vector space and everything that must match exactly each name their own keys and index.
  const partition = partitionKeysOf(scopeId, embedder?.name ?? 'exact', key.context);
  const semantic: SemanticSearch | null =
    embedder !== null && key.question.length <= MAX_EMBEDDED_CHARACTERS
      ? { index: indexes.get(partition.name, config.max_entries, ttlMs), embed: async (text) => (await embedWithin(embedder, [text], config.embedder.timeout_ms))[0]! }
      : null;
  const question: Question = { text: key.question, hash: key.questionHash.slice(0, 16), maxOutputTokens: key.maxOutputTokens };
  const store = redisCacheStoreFor(config.redis);
  let vector: Float32Array | null = null;
  if (control.noCache) setStatus(context, 'Refresh');
  else {
    try {
      const outcome = await lookup(store, partition, question, { threshold: config.similarity_threshold, guardSpecifics: config.guard_specifics, ttlMs }, semantic);
      if (outcome.status !== 'Miss') {
        context.cachedAnswer = outcome.entry.answer;
        context.responseHeaders[CACHE_HEADERS.similarity] = outcome.similarity.toFixed(4);
        context.responseHeaders[CACHE_HEADERS.age] = String(Math.max(0, Math.floor((Date.now() - outcome.entry.createdAt) / 1000)));
        return setStatus(context, outcome.status);
      }
      vector = outcome.vector;
      setStatus(context, 'Miss');
    } catch (error) {
      // Redis down or slow, or the embedder failed: the request goes to the provider, uncached.
      logger.warn({ plugin: 'semantic-cache', err: { message: (error as Error).message } }, 'semantic-cache: lookup failed, bypassing the cache');
      return setStatus(context, 'Bypass');
    }
  }
  context.hooks.push({
    name: 'semantic-cache',
    // Stores what the provider wrote (summary.text: before any hook restored PII), only finished text answers.
    // Not awaited: the end hooks after this one (token-limit's settle) need not wait for an embedding.
    onEnd: (reason, summary) => {
      if (reason.kind !== 'complete' || summary.status !== 200 || summary.finishReason !== 'stop' || summary.text === '' || summary.served === null) return;
      if (Buffer.byteLength(summary.text) > config.max_answer_bytes) return;
      const answer = { text: summary.text, model: summary.served.model, usage: summary.usage };
      void storeAnswer(answer).catch((error: Error) => logger.warn({ plugin: 'semantic-cache', err: { message: error.message } }, 'semantic-cache: could not store the answer'));
    },
  });

  async function storeAnswer(answer: StoredEntry['answer']): Promise<void> {
    const embedding = semantic === null ? null : (vector ?? (await semantic.embed(question.text)));
    const createdAt = Date.now();
    const { id } = await store.insert(partition, question.hash, { question: question.text, answer, createdAt }, embedding, ttlMs, config.max_entries);
    if (embedding && semantic) semantic.index.add({ id, question: question.text, createdAt }, embedding);
  }
}

function setStatus(context: RequestContext, status: string): void {
  context.responseHeaders[CACHE_HEADERS.status] = status;
  recordCacheLookup(status);
}

/** The value that names the request's scope; null when the request has none (it then bypasses the cache). */
async function scopeValueOf(config: SemanticCacheConfig, scope: PluginScope, pdk: Pdk): Promise<string | null> {
  switch (config.scope) {
    case 'global':
      return '';
    case 'consumer': {
      // As token-limit keys consumers: ids of DB-less entities may differ between nodes, usernames do not.
      const consumer = await pdk.consumer();
      return consumer === null ? null : (consumer.username ?? consumer.custom_id ?? consumer.id);
    }
    case 'route':
      return scope.routeId ?? (await pdk.route())?.id ?? null;
    case 'header': {
      // An empty value is no tenant: it must not become one shared scope.
      const value = await pdk.header(config.scope_header!);
      return value === null || value.trim() === '' ? null : value;
    }
  }
}
