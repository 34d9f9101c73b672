// Feature extraction for prompt-guard's injection classifier, shared by its training script and run time: hashed character and word n-grams plus a few hand features.

/** How a text becomes a vector. The model file records the options it was trained with, so run time extracts exactly the same features. */
export interface FeatureOptions {
  /** The vector has 2^bucketBits hashed buckets. */
  bucketBits: number;
  /** Character n-grams of these lengths, taken inside space-padded words ("␣ignore␣"), so word starts and ends are marked. */
  characterGramMinimum: number;
  characterGramMaximum: number;
  /** Word n-grams up to this length (1 = unigrams, 2 = unigrams and bigrams). */
  wordGramMaximum: number;
  /** Share of the squared norm given to the word block (word n-grams and hand features); the character block gets the rest. */
  wordBlockShare: number;
}

/** A sparse vector: parallel arrays of bucket indices (ascending, distinct) and values. */
export interface SparseVector {
  indices: Int32Array;
  values: Float64Array;
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
// Distinct starting states keep a character n-gram and a word that happen to spell the same out of each other's buckets.
const CHARACTER_SEED = FNV_OFFSET;
const WORD_SEED = Math.imul(FNV_OFFSET ^ 0x5bd1e995, FNV_PRIME) >>> 0;
const WORD_SEPARATOR = 0x20;

/** NFKC folds full-width letters, ligatures and other look-alikes onto plain ones; lower-casing makes "IGNORE" and "ignore" one feature. */
export function normaliseText(text: string): string {
  return text.normalize('NFKC').toLowerCase();
}

/** Words are runs of letters, digits and marks; everything else (punctuation, whitespace, emoji) separates them. */
export function splitWords(normalised: string): string[] {
  return normalised.match(/[\p{L}\p{N}\p{M}]+/gu) ?? [];
}

/** One FNV-1a step over a UTF-16 code unit (both bytes), as an unsigned 32-bit state. */
function hashStep(state: number, codeUnit: number): number {
  const low = Math.imul(state ^ (codeUnit & 0xff), FNV_PRIME);
  return Math.imul(low ^ (codeUnit >>> 8), FNV_PRIME) >>> 0;
}

function hashString(state: number, text: string): number {
  let hash = state;
  for (let index = 0; index < text.length; index += 1) hash = hashStep(hash, text.charCodeAt(index));
  return hash;
}

/** Word-count classes: one-to-three-word keyword searches are almost never injections, long instructions more often are. */
function lengthClass(wordCount: number): string {
  if (wordCount <= 3) return '1-3';
  if (wordCount <= 8) return '4-8';
  if (wordCount <= 20) return '9-20';
  if (wordCount <= 60) return '21-60';
  return '61+';
}

const SHOUTING = /\b\p{Lu}{2,}(?:[\s,.!:]+\p{Lu}{2,}){2,}/u;
const SPACED_LETTERS = /(?:^|\s)((?:\p{L}\s){3,}\p{L})(?=\s|$)/gu;
const ESCAPED_NEWLINE = /\\n/;

/**
 * Hand features, as pseudo-words that never collide with real ones ("#…" cannot come out of splitWords): the length class,
 * three or more words in capitals (a shouted override in the middle of a question), a literal "\n" (fake message
 * boundaries), and letters spaced apart to slip past word filters, which also come back joined as an extra word so
 * their character n-grams ("hate", "trump") count.
 */
function handFeatures(original: string, normalised: string, wordCount: number): { pseudoWords: string[]; joinedWords: string[] } {
  const pseudoWords = [`#length:${lengthClass(wordCount)}`];
  if (SHOUTING.test(original)) pseudoWords.push('#shouting');
  if (ESCAPED_NEWLINE.test(original)) pseudoWords.push('#escaped-newline');
  const joinedWords: string[] = [];
  for (const match of normalised.matchAll(SPACED_LETTERS)) {
    pseudoWords.push('#spaced-letters');
    joinedWords.push(match[1]!.replace(/\s/g, ''));
  }
  return { pseudoWords, joinedWords };
}

/**
 * Counts live in one scratch array per bucket count, with a list of the buckets touched so only those are read and reset:
 * far cheaper than a Map for the thousands of n-grams of a 2,000-character window. Extraction is synchronous, so sharing
 * the scratch is safe.
 */
class BucketCounter {
  readonly counts: Float64Array;
  touched: Int32Array;
  size = 0;

  constructor(bucketCount: number) {
    this.counts = new Float64Array(bucketCount);
    this.touched = new Int32Array(1024);
  }

  add(bucket: number, amount: number): void {
    if (this.counts[bucket] === 0) {
      if (this.size === this.touched.length) {
        const grown = new Int32Array(this.touched.length * 2);
        grown.set(this.touched);
        this.touched = grown;
      }
      this.touched[this.size] = bucket;
      this.size += 1;
    }
    this.counts[bucket]! += amount;
  }

  clear(): void {
    for (let index = 0; index < this.size; index += 1) this.counts[this.touched[index]!] = 0;
    this.size = 0;
  }
}

const counters = new Map<number, { block: BucketCounter; combined: BucketCounter }>();

function countersFor(bucketBits: number): { block: BucketCounter; combined: BucketCounter } {
  let pair = counters.get(bucketBits);
  if (pair === undefined) {
    pair = { block: new BucketCounter(1 << bucketBits), combined: new BucketCounter(1 << bucketBits) };
    counters.set(bucketBits, pair);
  }
  return pair;
}

/** Character n-grams of each padded word. The hash of a longer n-gram extends the shorter one, so each start position costs one pass. */
function countCharacterGrams(counter: BucketCounter, words: readonly string[], options: FeatureOptions, mask: number): void {
  for (const word of words) {
    const padded = ` ${word} `;
    for (let start = 0; start + options.characterGramMinimum <= padded.length; start += 1) {
      let hash = CHARACTER_SEED;
      const end = Math.min(padded.length, start + options.characterGramMaximum);
      for (let position = start; position < end; position += 1) {
        hash = hashStep(hash, padded.charCodeAt(position));
        if (position - start + 1 >= options.characterGramMinimum) counter.add(hash & mask, 1);
      }
    }
  }
}

function countWordGrams(counter: BucketCounter, words: readonly string[], options: FeatureOptions, mask: number): void {
  for (let start = 0; start < words.length; start += 1) {
    let hash = WORD_SEED;
    const end = Math.min(words.length, start + options.wordGramMaximum);
    for (let position = start; position < end; position += 1) {
      if (position > start) hash = hashStep(hash, WORD_SEPARATOR);
      hash = hashString(hash, words[position]!);
      counter.add(hash & mask, 1);
    }
  }
}

/**
 * Sublinear term frequency (1 + ln count) so a phrase repeated ten times is not ten times the evidence, then L2
 * normalisation of the block to `share` of the squared norm, so long and short texts land on the same scale.
 */
function moveNormalisedBlock(block: BucketCounter, combined: BucketCounter, share: number): void {
  let squaredNorm = 0;
  for (let index = 0; index < block.size; index += 1) {
    const weight = 1 + Math.log(block.counts[block.touched[index]!]!);
    squaredNorm += weight * weight;
  }
  if (squaredNorm > 0 && share > 0) {
    const scale = Math.sqrt(share / squaredNorm);
    for (let index = 0; index < block.size; index += 1) {
      const bucket = block.touched[index]!;
      combined.add(bucket, (1 + Math.log(block.counts[bucket]!)) * scale);
    }
  }
  block.clear();
}

function takeSparseVector(combined: BucketCounter): SparseVector {
  const indices = combined.touched.slice(0, combined.size).sort();
  const values = new Float64Array(indices.length);
  for (let index = 0; index < indices.length; index += 1) values[index] = combined.counts[indices[index]!]!;
  combined.clear();
  return { indices, values };
}

/** The feature vector of one text (the classifier cuts long texts into windows first). */
export function extractFeatures(text: string, options: FeatureOptions): SparseVector {
  const normalised = normaliseText(text);
  const words = splitWords(normalised);
  const { pseudoWords, joinedWords } = handFeatures(text, normalised, words.length);
  const mask = (1 << options.bucketBits) - 1;
  const { block, combined } = countersFor(options.bucketBits);
  countCharacterGrams(block, joinedWords.length === 0 ? words : [...words, ...joinedWords], options, mask);
  moveNormalisedBlock(block, combined, 1 - options.wordBlockShare);
  countWordGrams(block, words, options, mask);
  for (const pseudoWord of pseudoWords) block.add(hashString(WORD_SEED, pseudoWord) & mask, 1);
  moveNormalisedBlock(block, combined, options.wordBlockShare);
  return takeSparseVector(combined);
}
