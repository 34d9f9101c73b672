// Names of a cache partition's Redis keys: a scope, a vector space and an exact context each make their own.
import { sha256 } from './cache-key';
import type { CacheScope } from './config';

/** A partition's keys (one hash tag) and the set that lists the partitions of its scope, for purges. */
export interface PartitionKeys {
  /** The hash-tagged prefix of the partition's keys; also its name in the local index. */
  name: string;
  scopeSet: string;
}

/** One scope value of one cache namespace, e.g. consumer "alice" of namespace "support". */
export function scopeIdOf(namespace: string, scope: CacheScope, value: string): string {
  return `${namespace}:${scope}:${sha256(value).slice(0, 32)}`;
}

/** The set listing a scope's partitions. */
export function scopeSetOf(scopeId: string): string {
  return `sc:${scopeId}:partitions`;
}

/** `vectorSpace` is the embedder's name (or `exact`); `context` the hash of what must match exactly. */
export function partitionKeysOf(scopeId: string, vectorSpace: string, context: string): PartitionKeys {
  return { name: `sc:{${scopeId}:${sha256(`${vectorSpace}|${context}`).slice(0, 32)}}`, scopeSet: scopeSetOf(scopeId) };
}
