// Finds person names and places offline, with compromise's rule-based English tagger (no model download).
import nlp from 'compromise';
import type { Finding } from './pii-entities';

interface OffsetTerm {
  text: string;
  offset: { start: number; length: number };
}

const TRAILING_PUNCTUATION = /[\s.,;:!?'")\]]+$/;

export function findPersons(text: string): Finding[] {
  return fromMatches(text, nlp(text).people().json({ offset: true }) as OffsetTerm[], 'person');
}

export function findLocations(text: string): Finding[] {
  return fromMatches(text, nlp(text).places().json({ offset: true }) as OffsetTerm[], 'location');
}

/** Both in one parse, for callers that want both (the parse is most of the cost). */
export function findPersonsAndLocations(text: string, persons: boolean, locations: boolean): Finding[] {
  if (!persons && !locations) return [];
  const document = nlp(text);
  return [
    ...(persons ? fromMatches(text, document.people().json({ offset: true }) as OffsetTerm[], 'person') : []),
    ...(locations ? fromMatches(text, document.places().json({ offset: true }) as OffsetTerm[], 'location') : []),
  ];
}

function fromMatches(text: string, matches: OffsetTerm[], entity: string): Finding[] {
  const findings: Finding[] = [];
  for (const match of matches) {
    const start = match.offset.start;
    const raw = text.slice(start, start + match.offset.length);
    const value = raw.replace(TRAILING_PUNCTUATION, '');
    if (value.length < 2 || !/\p{Lu}/u.test(value[0] ?? '')) continue; // names and places are capitalised
    findings.push({ entity, start, end: start + value.length, value });
  }
  return findings;
}
