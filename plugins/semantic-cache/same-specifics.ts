// The near-duplicate guard: two questions close in meaning still differ when their negations, numbers, dates or names do.

/** Words that turn a question around ("is it safe" / "is it not safe"). */
const NEGATIONS = new Set(['not', 'no', 'never', 'nor', 'neither', 'none', 'nothing', 'nobody', 'nowhere', 'cannot', 'without', 'except', 'excluding', 'unless']);

/** Number words and date words, compared like digits. */
const NUMBER_WORDS = new Set(
  'zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred thousand million billion trillion first second third fourth fifth sixth seventh eighth ninth tenth half quarter double twice triple dozen'.split(' '),
);
// "may" and "fall" are left out: far more often verbs ("May I ...") than dates.
const DATE_WORDS = new Set(
  'january february march april june july august september october november december monday tuesday wednesday thursday friday saturday sunday today tomorrow yesterday tonight weekend morning evening night spring summer autumn winter'.split(' '),
);

export interface Specifics {
  negated: boolean;
  /** Digits, number words and date words, in order of appearance. */
  quantities: string[];
  /** Lower-cased names: capitalised words past a sentence's start, acronyms and gateway placeholders (<PERSON_1>). */
  names: Set<string>;
  /** Every lower-cased word, to look a name up in the other question whatever its case there. */
  words: Set<string>;
}

/** "I", "I'm", "I've": capitalised everywhere, never a name. */
const PRONOUN_I = /^I(?:['’]\p{L}+)?$/u;

const TOKEN = /<[A-Z_]+_\d+>|[\p{L}\p{N}]+(?:['’.,][\p{L}\p{N}]+)*/gu;

export function specificsOf(text: string): Specifics {
  const quantities: string[] = [];
  const names = new Set<string>();
  const words = new Set<string>();
  let negated = false;
  let sentenceStart = true;
  let previousEnd = 0;
  for (const match of text.matchAll(TOKEN)) {
    const token = match[0];
    // Punctuation that ends a sentence between the previous word and this one starts a new sentence.
    if (/[.!?:;\n]/.test(text.slice(previousEnd, match.index))) sentenceStart = true;
    previousEnd = match.index + token.length;
    const lower = token.toLowerCase().replace(/['’]s$/, '');
    words.add(lower);
    if (/n['’]t$/.test(lower) || NEGATIONS.has(lower)) negated = true;
    // Placeholders first (they hold digits), then quantities (weekdays and months are capitalised), then names.
    if (token.startsWith('<')) names.add(lower);
    else if (/\d/.test(token) || NUMBER_WORDS.has(lower) || DATE_WORDS.has(lower)) quantities.push(lower.replace(/,/g, ''));
    else if (!PRONOUN_I.test(token) && ((!sentenceStart && /^\p{Lu}/u.test(token)) || /^\p{Lu}{2,}$/u.test(token))) names.add(lower);
    sentenceStart = false;
  }
  return { negated, quantities, names, words };
}

/** Null when the two questions agree on every specific; else what differs (for the log). */
export function differingSpecifics(left: Specifics, right: Specifics): string | null {
  if (left.negated !== right.negated) return 'negation';
  if ([...left.quantities].sort().join('|') !== [...right.quantities].sort().join('|')) return 'numbers or dates';
  // A name in one question must appear (in any case) in the other: "France" matches "france's".
  for (const name of left.names) if (!right.words.has(name)) return 'names';
  for (const name of right.names) if (!left.words.has(name)) return 'names';
  return null;
}
