// Restores placeholders in text that arrives in pieces, holding back only what could be a split placeholder (or entity).
import { MAX_PLACEHOLDER_LENGTH, PLACEHOLDER, type PlaceholderMap } from './placeholder-map';
import type { Finding } from './pii-entities';

/**
 * The output scan: finds personal data in answer text (before placeholders are restored, so anything it
 * finds is new: the model never saw the originals). `holdBack` is how many trailing characters wait for
 * the next piece, because an entity may still be arriving.
 */
export interface OutputScanner {
  find(text: string): Finding[];
  holdBack: number;
  /** Told what was redacted as it is released (each finding once), for the audit. */
  redacted?(findings: Finding[]): void;
}

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
    private readonly scanner: OutputScanner | null = null,
  ) {}

  push(text: string): string {
    const pending = this.held + text;
    let cut = holdBackFrom(pending);
    let findings: Finding[] = [];
    if (this.scanner) {
      // Keep the last characters back, but never cut through an entity or a placeholder.
      cut = Math.min(cut, Math.max(0, pending.length - this.scanner.holdBack));
      findings = this.scanner.find(pending);
      for (const span of [...findings, ...placeholdersIn(pending)]) if (span.start < cut && span.end > cut) cut = span.start;
      findings = findings.filter((finding) => finding.end <= cut);
    }
    this.held = pending.slice(cut);
    return this.release(pending.slice(0, cut), findings);
  }

  flush(): string {
    const rest = this.held;
    this.held = '';
    return this.release(rest, this.scanner ? this.scanner.find(rest) : []);
  }

  private release(text: string, findings: Finding[]): string {
    if (findings.length > 0) this.scanner?.redacted?.(findings);
    return this.map.restore(findings.length === 0 ? text : this.map.apply(text, findings, () => 'redact'), this.escape);
  }

  get holding(): boolean {
    return this.held !== '';
  }
}

function placeholdersIn(text: string): Array<{ start: number; end: number }> {
  return [...text.matchAll(PLACEHOLDER)].map((match) => ({ start: match.index, end: match.index + match[0].length }));
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
