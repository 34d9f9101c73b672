// Finds person names and places offline, with compromise's rule-based English tagger (no model download).
import nlp from 'compromise';
import type { Finding } from './pii-entities';

interface OffsetTerm {
  text: string;
  offset: { start: number; length: number };
}

const TRAILING_PUNCTUATION = /[\s.,;:!?'")\]]+$/;

/** A capitalised word other than "I": without one, a sentence holds no name or place compromise would tag. */
const CAPITALISED_WORD = /(?:^|[^\p{L}])(?!I[^\p{L}])\p{Lu}\p{L}/u;
const SENTENCE_END = /(?<=[.!?\n])\s+/g;
/** Sentences are tagged in batches of about this many characters (compromise's cost per call is high). */
const BATCH_CHARACTERS = 4000;

/**
 * Both in one parse per batch (the parse is most of the cost: compromise tags about 60 KB/s). Only
 * sentences with a capitalised word are parsed, so long lower-case or code-like text costs little.
 */
export function findPersonsAndLocations(text: string, persons: boolean, locations: boolean): Finding[] {
  if (!persons && !locations) return [];
  const findings: Finding[] = [];
  for (const batch of candidateBatches(text)) {
    const document = nlp(batch.text);
    if (persons) findings.push(...fromMatches(batch.text, document.people().json({ offset: true }) as OffsetTerm[], 'person', batch.start));
    if (locations) findings.push(...fromMatches(batch.text, document.places().json({ offset: true }) as OffsetTerm[], 'location', batch.start));
  }
  return findings;
}

/** Runs of consecutive sentences that contain a capitalised word, cut into batches; offsets into `text`. */
function candidateBatches(text: string): Array<{ start: number; text: string }> {
  const batches: Array<{ start: number; text: string }> = [];
  let batchStart = -1;
  let batchEnd = -1;
  const close = () => {
    if (batchStart !== -1) batches.push({ start: batchStart, text: text.slice(batchStart, batchEnd) });
    batchStart = -1;
  };
  let sentenceStart = 0;
  const visit = (end: number, next: number) => {
    const sentence = text.slice(sentenceStart, end);
    if (CAPITALISED_WORD.test(sentence)) {
      if (batchStart === -1) batchStart = sentenceStart;
      batchEnd = end;
      if (batchEnd - batchStart >= BATCH_CHARACTERS) close();
    } else close();
    sentenceStart = next;
  };
  for (const match of text.matchAll(SENTENCE_END)) visit(match.index!, match.index! + match[0].length);
  visit(text.length, text.length);
  close();
  return batches;
}

function fromMatches(text: string, matches: OffsetTerm[], entity: string, base = 0): Finding[] {
  const findings: Finding[] = [];
  for (const match of matches) {
    const start = match.offset.start;
    const raw = text.slice(start, start + match.offset.length);
    const value = raw.replace(TRAILING_PUNCTUATION, '');
    if (value.length < 2 || !/\p{Lu}/u.test(value[0] ?? '')) continue; // names and places are capitalised
    findings.push({ entity, start: base + start, end: base + start + value.length, value });
  }
  return findings;
}
