// Kong glue for token-limit: token and cost budgets per consumer, credential, group, IP, header, route or service.
import { GatewayError } from '../core/errors';
import { logger } from '../core/logger';
import type { DispatchPlan, RequestContext } from '../core/context/request-context-store';
import type { EndReason, ResponseSummary } from '../core/connector/stream-hooks';
import { definePlugin, type AccessInput } from '../kong/define-plugin';
import type { Pdk } from '../kong/pdk';
import type { PluginScope } from '../kong/plugin-scope';
import { recordEstimatedCommit, recordLimitDecision } from '../core/metrics';
import { limitName, tokenLimitConfig, type TokenLimitConfig } from './config';
import { identitiesFor, neededKeys, type RequestFacts } from './identify-request';
import { estimatePlan, estimateUsage } from './estimate-request';
import { amountsOf, limitUnits, usageAmounts } from './usage-amounts';
import { reserveBudget, settleBudget, type BudgetLimit, type Reservation } from './budget';
import { limitExceeded, rateLimitHeaders } from './rate-limit-headers';
import { LocalPolicy } from './policies/local-policy';
import { redisPolicyFor } from './policies/redis-policy';
import type { LimitPolicy } from './policies/limit-policy';
import { LastSeenUsage } from './soft-limits';

export const { Name, Version, Priority, Schema, Plugin, parseConfig } = definePlugin({
  name: 'token-limit',
  priority: 901,
  config: tokenLimitConfig,
  failMode: (config) => config.fail_mode,
  access: async ({ pdk, config, scope, context }: AccessInput<TokenLimitConfig>) => {
    const facts = await requestFacts(pdk, config, scope);
    const limits: BudgetLimit[] = config.limits.flatMap((limit) =>
      identitiesFor(limit, facts).map((identity) => ({ config: limit, name: limitName(limit), units: limitUnits(limit), identity })),
    );
    // A key past a soft limit is routed to llm-proxy's cheaper targets (when it has some) before planning.
    context.budgetPressure = lastSeen.reachedSoftLimit(namespaceOf(config, scope), limits, Date.now());
    // The budget is reserved once llm-proxy has planned the call: the models, caps and prices decide the amounts.
    context.admissions.push(async (plan) => {
      try {
        await admit(plan, context, config, limits, scope);
      } catch (error) {
        // The check runs inside llm-proxy's phase; token-limit's own fail_mode still decides for its bugs.
        if (error instanceof GatewayError || config.fail_mode === 'closed') throw error;
        logger.error({ plugin: 'token-limit', err: { message: (error as Error).message } }, 'plugin failed; fail_mode open lets the request through');
      }
    });
  },
});

/** Each key's usage at its latest check on this node, for soft limits. */
const lastSeen = new LastSeenUsage();

function namespaceOf(config: TokenLimitConfig, scope: PluginScope): string {
  return config.namespace ?? scope.pluginId ?? 'token-limit';
}

/** Counters of the `local` policy: one store per process, shared by every instance (keys carry the namespace). */
const localPolicy = new LocalPolicy();

/** Unsettled reservations of the local policy, for the connector's status endpoint. */
export function localReservationCount(): number {
  return localPolicy.reservationCount;
}

function policyOf(config: TokenLimitConfig): LimitPolicy {
  return config.policy === 'redis' ? redisPolicyFor(config.redis!) : localPolicy;
}

async function admit(plan: DispatchPlan, context: RequestContext, config: TokenLimitConfig, limits: BudgetLimit[], scope: PluginScope): Promise<void> {
  const nowMs = Date.now();
  // An answer replayed from semantic-cache (whose admission ran first) costs no tokens: only the request counts.
  const estimate = context.cachedAnswer ? { inputTokens: 0, outputTokens: 0, costUsd: 0, exact: true } : estimatePlan(plan, config.default_max_output_tokens);
  const policy = policyOf(config);
  const namespace = namespaceOf(config, scope);
  let decision;
  try {
    decision = await reserveBudget(policy, limits, amountsOf(estimate, 1), { namespace, nowMs, ttlMs: config.reservation_ttl_seconds * 1000 });
  } catch (error) {
    // The store failed or was too slow: fault_tolerant decides, and the request holds no reservation.
    recordLimitDecision('store_unavailable');
    logger.warn({ plugin: 'token-limit', policy: config.policy, err: { message: (error as Error).message }, fault_tolerant: config.fault_tolerant }, 'token-limit: counter store unavailable');
    if (config.fault_tolerant) return;
    throw new GatewayError('The token budget store is unavailable; try again shortly.', { status: 503, type: 'service_unavailable', code: 'limit_store_unavailable', headers: { 'retry-after': '1' } });
  }
  lastSeen.record(namespace, decision.states);
  const headers = config.hide_client_headers ? {} : rateLimitHeaders(decision.states, nowMs);
  if (!decision.admitted) {
    recordLimitDecision('refused', decision.refused.limit.name);
    throw limitExceeded(decision.refused, headers, nowMs);
  }
  recordLimitDecision('admitted');
  Object.assign(context.responseHeaders, headers);
  const reservation = decision.reservation;
  context.hooks.push({ name: 'token-limit', onEnd: (reason, summary) => settle(policy, reservation, plan, reason, summary) });
}

/**
 * Commits what the provider reported. When it reported nothing (a stream cut or abandoned, a
 * provider without usage), commits what the gateway counts itself, flagged as estimated.
 */
async function settle(policy: LimitPolicy, reservation: Reservation, plan: DispatchPlan, reason: EndReason, summary: ResponseSummary): Promise<void> {
  let tokens;
  if (summary.usage) tokens = usageAmounts(summary.usage, summary.costUsd);
  else if (summary.served === null || reason.kind === 'not_sent') tokens = { inputTokens: 0, outputTokens: 0, costUsd: 0 };
  else {
    // A provider that failed before answering bills nothing; once it streamed, or the client left, the prompt was processed.
    const promptSent = summary.text !== '' || reason.kind === 'client_abort' || reason.kind === 'complete';
    const estimated = estimateUsage(plan, summary.served, summary.text, promptSent);
    tokens = usageAmounts(estimated.usage, estimated.costUsd);
    if (tokens.inputTokens + tokens.outputTokens > 0) {
      recordEstimatedCommit(reason.kind);
      logger.info({ plugin: 'token-limit', estimated: true, reason: reason.kind, input_tokens: tokens.inputTokens, output_tokens: tokens.outputTokens }, 'token-limit: usage estimated');
    }
  }
  const requests = reason.kind === 'not_sent' ? 0 : 1;
  try {
    await settleBudget(policy, reservation, amountsOf(tokens, requests), Date.now());
  } catch (error) {
    // The reservation stays until reservation_ttl_seconds, then stops counting.
    logger.warn({ plugin: 'token-limit', err: { message: (error as Error).message } }, 'token-limit: settle failed');
  }
}

/** Asks Kong only for what the limits are keyed by (each fact is one RPC round trip). */
async function requestFacts(pdk: Pdk, config: TokenLimitConfig, scope: PluginScope): Promise<RequestFacts> {
  const keys = neededKeys(config.limits);
  const has = (key: Parameters<typeof keys.has>[0]) => keys.has(key);
  const headerNames = config.limits.flatMap((limit) => (limit.key_by === 'header' ? [limit.header_name!.toLowerCase()] : []));
  // Every key but route and service may be missing, and then the IP stands in.
  const needsIp = [...keys].some((key) => key !== 'route' && key !== 'service');
  const needsRoute = (has('route') && scope.routeId === null) || (has('service') && scope.serviceId === null);
  const [consumer, credential, groups, ip, route, headerValues] = await Promise.all([
    has('consumer') ? pdk.consumer() : null,
    has('credential') ? pdk.credential() : null,
    has('consumer_group') ? pdk.consumerGroups() : [],
    needsIp ? pdk.forwardedIp() : null,
    needsRoute ? pdk.route() : null,
    Promise.all(headerNames.map((name) => pdk.header(name))),
  ]);
  return {
    // The username (unique in Kong) rather than the id: DB-less nodes that loaded the same kong.yml
    // agree on names even where they might not on generated ids, and a budget must be one across nodes.
    consumerId: consumer === null ? null : (consumer.username ?? consumer.custom_id ?? consumer.id),
    credentialId: credential?.id ?? null,
    consumerGroups: groups.map((group) => group.name ?? group.id),
    ip,
    headers: Object.fromEntries(headerNames.map((name, index) => [name, headerValues[index] ?? null])),
    routeId: scope.routeId ?? route?.id ?? null,
    serviceId: scope.serviceId ?? route?.service?.id ?? null,
  };
}
