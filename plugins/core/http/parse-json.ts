// JSON.parse that answers undefined instead of throwing, for payloads whose shape zod checks next.

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
