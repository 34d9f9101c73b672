// The client's say over the cache, from its Cache-Control request header (RFC 9111 directives).

export interface ClientCacheControl {
  /** `no-cache`: do not answer from the cache, but store the fresh answer (X-Cache-Status: Refresh). */
  noCache: boolean;
  /** `no-store`: neither read nor write the cache (X-Cache-Status: Bypass). */
  noStore: boolean;
}

export function parseCacheControl(header: string | null): ClientCacheControl {
  const directives = new Set((header ?? '').split(',').map((directive) => directive.trim().toLowerCase().split('=')[0]!));
  return { noCache: directives.has('no-cache'), noStore: directives.has('no-store') };
}
