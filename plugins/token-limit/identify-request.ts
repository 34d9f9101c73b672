// Whose usage a limit counts: the request's consumer, credential, groups, IP, header value, route or service.
import type { LimitConfig, LimitKey } from './config';

/** What the request carries that limits may be keyed by; null when absent. */
export interface RequestFacts {
  consumerId: string | null;
  credentialId: string | null;
  consumerGroups: string[];
  ip: string | null;
  /** Values of the headers limits are keyed by, lower-cased names. */
  headers: Record<string, string | null>;
  routeId: string | null;
  serviceId: string | null;
}

/**
 * The identities a limit counts this request against, as `<kind>:<value>`. A consumer in several
 * groups counts against each group. A request without the key (no consumer, no such header) falls
 * back to its client IP, as Kong's rate-limiting does, so it is never unlimited.
 */
export function identitiesFor(limit: LimitConfig, facts: RequestFacts): string[] {
  const values = keyValues(limit, facts);
  if (values.length > 0) return values.map((value) => `${limit.key_by}:${value}`);
  return [facts.ip === null ? 'ip:unknown' : `ip:${facts.ip}`];
}

function keyValues(limit: LimitConfig, facts: RequestFacts): string[] {
  const single = (value: string | null) => (value === null || value === '' ? [] : [value]);
  switch (limit.key_by) {
    case 'consumer':
      return single(facts.consumerId);
    case 'credential':
      return single(facts.credentialId);
    case 'consumer_group':
      return [...new Set(facts.consumerGroups)].sort();
    case 'ip':
      return single(facts.ip);
    case 'header':
      return single(facts.headers[limit.header_name!.toLowerCase()] ?? null);
    case 'route':
      return single(facts.routeId);
    case 'service':
      return single(facts.serviceId);
  }
}

/** Which facts the limits need, so the access phase asks Kong only for those. */
export function neededKeys(limits: LimitConfig[]): Set<LimitKey> {
  return new Set(limits.map((limit) => limit.key_by));
}
