// Pure measurements behind the correctness benchmark: placeholders split by stream chunks, values cut on the way to the client, error and overshoot figures.

export interface Span {
  start: number;
  end: number;
}

/** pii-redact's numbered placeholders (`<EMAIL_2>`, `<PERSON_1>`, `<EMPLOYEE_ID_3>`), where they sit in a text. */
export function placeholderSpans(text: string): Span[] {
  return [...text.matchAll(/<[A-Z][A-Z0-9_]*_\d+>/g)].map((match) => ({ start: match.index, end: match.index + match[0].length }));
}

/** The offsets in the joined text where one chunk ends and the next begins (the text's two ends left out). */
export function chunkBoundaries(pieces: readonly string[]): number[] {
  const boundaries: number[] = [];
  let offset = 0;
  for (const piece of pieces.slice(0, -1)) {
    offset += piece.length;
    boundaries.push(offset);
  }
  return boundaries;
}

/** Where chunk boundaries fall strictly inside a span, as offsets from its start (1 .. length - 1). */
export function cutsInside(span: Span, boundaries: readonly number[]): number[] {
  return boundaries.filter((boundary) => boundary > span.start && boundary < span.end).map((boundary) => boundary - span.start);
}

/** Whether some occurrence of `value` in `text` has a chunk boundary inside it: the client would see part of it first. */
export function valueCutByChunks(text: string, value: string, boundaries: readonly number[]): boolean {
  if (value === '') return false;
  for (let start = text.indexOf(value); start !== -1; start = text.indexOf(value, start + 1)) {
    if (cutsInside({ start, end: start + value.length }, boundaries).length > 0) return true;
  }
  return false;
}

/**
 * Which cut positions the provider's chunks exercised, per placeholder length: a placeholder of length L can be cut at
 * L - 1 places. Returns the positions seen and how many were possible for the lengths that were cut at all.
 */
export function cutCoverage(cuts: ReadonlyArray<{ length: number; offsets: readonly number[] }>): { covered: number; possible: number } {
  const seen = new Map<number, Set<number>>();
  for (const cut of cuts) {
    if (cut.offsets.length === 0) continue;
    const offsets = seen.get(cut.length) ?? new Set<number>();
    for (const offset of cut.offsets) offsets.add(offset);
    seen.set(cut.length, offsets);
  }
  let covered = 0;
  let possible = 0;
  for (const [length, offsets] of seen) {
    covered += offsets.size;
    possible += length - 1;
  }
  return { covered, possible };
}

/** |committed - reported| / reported; 0 when both are 0, and the committed amount itself when nothing was reported. */
export function relativeError(committed: number, reported: number): number {
  if (reported === 0) return committed === 0 ? 0 : committed;
  return Math.abs(committed - reported) / reported;
}

/** Tokens admitted beyond the limit (0 when within it), and that as a percentage of the limit. */
export function overshoot(admitted: number, limit: number): { tokens: number; percent: number } {
  const tokens = Math.max(0, admitted - limit);
  return { tokens, percent: (100 * tokens) / limit };
}
