// JSON.parse that answers undefined instead of throwing, for payloads whose shape zod checks next.

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Parsed bodies by buffer: the policies of one request (prompt-guard, then pii-redact) parse its body once. */
const parsedBodies = new WeakMap<Buffer, Record<string, unknown> | null>();

/**
 * A request body as a JSON object: null when it is not valid UTF-8, not JSON, or not an object. The same
 * buffer gives the same object; a policy that changes the body (pii-redact) sets a new buffer for the next.
 */
export function parseJsonObjectBody(raw: Buffer): Record<string, unknown> | null {
  if (parsedBodies.has(raw)) return parsedBodies.get(raw)!;
  let parsed: Record<string, unknown> | null = null;
  try {
    const value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(raw)) as unknown;
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) parsed = value as Record<string, unknown>;
  } catch {
    // not JSON: null
  }
  parsedBodies.set(raw, parsed);
  return parsed;
}
