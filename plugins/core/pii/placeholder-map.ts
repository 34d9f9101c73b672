// Replaces findings with numbered placeholders, the same value getting the same one, and remembers them for restoring.
import { placeholderTag, type Finding } from './pii-entities';

/** Matches any placeholder this map can produce: `<TAG_n>`. */
export const PLACEHOLDER = /<([A-Z][A-Z0-9_]*)_(\d+)>/g;
/** The longest a placeholder can be, for the stream restorer's hold-back. */
export const MAX_PLACEHOLDER_LENGTH = 48;

/**
 * One request's placeholders: numbered by order of first appearance across the whole request
 * (`<PERSON_1>`, `<EMAIL_2>`, `<PERSON_1>` again for the same name). Held in process memory only.
 */
export class PlaceholderMap {
  private readonly byValue = new Map<string, string>();
  private readonly byPlaceholder = new Map<string, string>();

  /** The text with each finding replaced (`mask`: a placeholder; `redact`: `[REDACTED_<TAG>]`, not restorable). */
  apply(text: string, findings: readonly Finding[], action: (finding: Finding) => 'mask' | 'redact'): string {
    let result = '';
    let position = 0;
    for (const finding of findings) {
      result += text.slice(position, finding.start);
      result += action(finding) === 'mask' ? this.placeholderFor(finding) : `[REDACTED_${placeholderTag(finding.entity)}]`;
      position = finding.end;
    }
    return result + text.slice(position);
  }

  placeholderFor(finding: Finding): string {
    const key = `${finding.entity}\u0000${finding.value}`;
    let placeholder = this.byValue.get(key);
    if (placeholder === undefined) {
      placeholder = `<${placeholderTag(finding.entity)}_${this.byValue.size + 1}>`;
      this.byValue.set(key, placeholder);
      this.byPlaceholder.set(placeholder, finding.value);
    }
    return placeholder;
  }

  original(placeholder: string): string | undefined {
    return this.byPlaceholder.get(placeholder);
  }

  get size(): number {
    return this.byPlaceholder.size;
  }

  /** Replaces every known placeholder in a complete text; `escape` adapts originals to where they go (JSON strings). */
  restore(text: string, escape: (value: string) => string = (value) => value): string {
    if (this.size === 0) return text;
    return text.replace(PLACEHOLDER, (placeholder) => {
      const original = this.byPlaceholder.get(placeholder);
      return original === undefined ? placeholder : escape(original);
    });
  }
}
