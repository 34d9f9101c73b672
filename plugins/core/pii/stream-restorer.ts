// Restores placeholders in text that arrives in pieces, holding back only what could be a split placeholder.
import { MAX_PLACEHOLDER_LENGTH, type PlaceholderMap } from './placeholder-map';

/** `<`, `<PERS`, `<PERSON_1`: a tail that a later piece could complete into a placeholder. */
const PLACEHOLDER_PREFIX = /^<(?:[A-Z][A-Z0-9_]*)?$/;

/**
 * One text channel of a stream (the answer's content, one tool call's arguments). `push` returns what
 * can be sent now, restored; a tail that may be the start of a placeholder (at most 47 characters) waits
 * for the next piece. `flush` releases it at the channel's end.
 */
export class StreamRestorer {
  private held = '';

  constructor(
    private readonly map: PlaceholderMap,
    private readonly escape: (value: string) => string = (value) => value,
  ) {}

  push(text: string): string {
    const pending = this.held + text;
    const cut = holdBackFrom(pending);
    this.held = pending.slice(cut);
    return this.map.restore(pending.slice(0, cut), this.escape);
  }

  flush(): string {
    const rest = this.held;
    this.held = '';
    return this.map.restore(rest, this.escape);
  }

  get holding(): boolean {
    return this.held !== '';
  }
}

function holdBackFrom(text: string): number {
  const start = text.lastIndexOf('<');
  if (start === -1 || text.length - start >= MAX_PLACEHOLDER_LENGTH) return text.length;
  return PLACEHOLDER_PREFIX.test(text.slice(start)) ? start : text.length;
}

/** For originals restored inside JSON text (tool-call arguments): escaped as a JSON string's content. */
export function escapeForJsonString(value: string): string {
  return JSON.stringify(value).slice(1, -1);
}
