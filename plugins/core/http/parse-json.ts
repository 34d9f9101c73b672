// JSON.parse that answers undefined instead of throwing, for payloads whose shape zod checks next.

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A request body as a JSON object: null when it is not valid UTF-8, not JSON, or not an object. */
export function parseJsonObjectBody(raw: Buffer): Record<string, unknown> | null {
  try {
    const value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(raw)) as unknown;
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
