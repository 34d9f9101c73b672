// JSON.parse that answers undefined instead of throwing, for payloads whose shape zod checks next.

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * How deep a request body may nest. Real requests (JSON-schema tool parameters included) stay far below;
 * deeper ones would overflow the stack of every recursive walk after parsing (zod, traversals, stringify).
 */
export const MAX_JSON_DEPTH = 64;

/** Whether `value` nests arrays or objects deeper than `limit`; iterative, so any depth is safe to check. */
export function nestsDeeperThan(value: unknown, limit: number): boolean {
  const pending: Array<[unknown, number]> = [[value, 0]];
  while (pending.length > 0) {
    const [item, depth] = pending.pop()!;
    if (item === null || typeof item !== 'object') continue;
    if (depth >= limit) return true;
    for (const child of Array.isArray(item) ? item : Object.values(item)) if (child !== null && typeof child === 'object') pending.push([child, depth + 1]);
  }
  return false;
}

/** Parsed bodies by buffer: the policies of one request (prompt-guard, then pii-redact) parse its body once. */
const parsedBodies = new WeakMap<Buffer, Record<string, unknown> | null>();

/**
 * A request body as a JSON object: null when it is not valid UTF-8, not JSON, not an object, or nested deeper
 * than MAX_JSON_DEPTH (llm-proxy answers those with a 400). The same
 * buffer gives the same object; a policy that changes the body (pii-redact) sets a new buffer for the next.
 */
export function parseJsonObjectBody(raw: Buffer): Record<string, unknown> | null {
  if (parsedBodies.has(raw)) return parsedBodies.get(raw)!;
  let parsed: Record<string, unknown> | null = null;
  try {
    const value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(raw)) as unknown;
    if (value !== null && typeof value === 'object' && !Array.isArray(value) && !nestsDeeperThan(value, MAX_JSON_DEPTH)) parsed = value as Record<string, unknown>;
  } catch {
    // not JSON: null
  }
  parsedBodies.set(raw, parsed);
  return parsed;
}
