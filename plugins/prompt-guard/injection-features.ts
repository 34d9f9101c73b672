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

const WORD_CHARACTER = /[\p{L}\p{N}\p{M}]/u;

/** Letters, digits and marks; ASCII is decided by code, the rest (and surrogate pairs, whole) by a Unicode property test. */
function isWordCharacter(text: string, index: number, code: number): boolean {
  if (code < 0x80) return (code >= 0x61 && code <= 0x7a) || (code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x5a);
  return WORD_CHARACTER.test(String.fromCodePoint(text.codePointAt(index)!));
}

/**
 * Words are runs of letters, digits and marks; everything else (punctuation, whitespace, emoji) separates them. A loop
 * rather than a Unicode regular expression, which costs several times more on the ASCII that most text is.
 */
export function splitWords(normalised: string): string[] {
  const words: string[] = [];
  let start = -1;
  for (let index = 0; index < normalised.length; index += 1) {
    const code = normalised.charCodeAt(index);
    const width = code >= 0xd800 && code <= 0xdbff && index + 1 < normalised.length ? 2 : 1;
    if (isWordCharacter(normalised, index, code)) {
      if (start < 0) start = index;
    } else if (start >= 0) {
      words.push(normalised.slice(start, index));
      start = -1;
    }
    index += width - 1;
  }
  if (start >= 0) words.push(normalised.slice(start));
  return words;
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

// Bounded repeats: JavaScript's \b is ASCII-only, so before non-ASCII capitals every position is a boundary.
const SHOUTING = /\b\p{Lu}{2,20}(?:[\s,.!:]{1,4}\p{Lu}{2,20}){2}/u;
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
 * A small open-addressing table from bucket to count, with the list of occupied slots so reading and resetting it cost
 * only what was used. A window's few thousand distinct n-grams fit in a table small enough to stay in the CPU cache,
 * unlike a dense 2^18 array. Extraction is synchronous, so sharing one table per block is safe.
 */
class BucketTable {
  keys: Int32Array;
  counts: Float64Array;
  occupied: Int32Array;
  size = 0;

  constructor(capacity: number) {
    this.keys = new Int32Array(capacity).fill(-1);
    this.counts = new Float64Array(capacity);
    this.occupied = new Int32Array(capacity);
  }

  add(bucket: number, amount: number): void {
    // Buckets are already hash values, so their low bits spread evenly over the slots.
    const mask = this.keys.length - 1;
    let slot = bucket & mask;
    while (true) {
      const key = this.keys[slot]!;
      if (key === bucket) {
        this.counts[slot]! += amount;
        return;
      }
      if (key === -1) break;
      slot = (slot + 1) & mask;
    }
    this.keys[slot] = bucket;
    this.counts[slot] = amount;
    this.occupied[this.size] = slot;
    this.size += 1;
    // Half full at most, so probes stay short.
    if (this.size * 2 > this.keys.length) this.grow();
  }

  /** The count of a bucket, 0 if absent. */
  get(bucket: number): number {
    const mask = this.keys.length - 1;
    for (let slot = bucket & mask; this.keys[slot] !== -1; slot = (slot + 1) & mask) if (this.keys[slot] === bucket) return this.counts[slot]!;
    return 0;
  }

  private grow(): void {
    const keys = this.keys;
    const counts = this.counts;
    const occupied = this.occupied.slice(0, this.size);
    this.keys = new Int32Array(keys.length * 2).fill(-1);
    this.counts = new Float64Array(keys.length * 2);
    this.occupied = new Int32Array(keys.length * 2);
    this.size = 0;
    for (const slot of occupied) this.add(keys[slot]!, counts[slot]!);
  }

  clear(): void {
    for (let index = 0; index < this.size; index += 1) this.keys[this.occupied[index]!] = -1;
    this.size = 0;
  }
}

interface Scratch {
  characters: BucketTable;
  words: BucketTable;
  combined: BucketTable;
}

const SCRATCH: Scratch = { characters: new BucketTable(8192), words: new BucketTable(2048), combined: new BucketTable(8192) };

/** Reused buffer for one space-padded word's code units (grown for very long "words" such as base64 blobs). */
let paddedWord = new Uint16Array(256);

/**
 * Character n-grams of each padded word. The word is copied once into a code-unit buffer (building " word " strings
 * would allocate per word), and the hash of a longer n-gram extends the shorter one, so each start position costs one pass.
 */
function countCharacterGrams(counter: BucketTable, words: readonly string[], options: FeatureOptions, mask: number): void {
  const minimum = options.characterGramMinimum;
  const maximum = options.characterGramMaximum;
  for (const word of words) {
    const length = word.length + 2;
    if (length > paddedWord.length) paddedWord = new Uint16Array(length * 2);
    paddedWord[0] = WORD_SEPARATOR;
    for (let index = 0; index < word.length; index += 1) paddedWord[index + 1] = word.charCodeAt(index);
    paddedWord[length - 1] = WORD_SEPARATOR;
    for (let start = 0; start + minimum <= length; start += 1) {
      let hash = CHARACTER_SEED;
      const end = Math.min(length, start + maximum);
      for (let position = start; position < end; position += 1) {
        hash = hashStep(hash, paddedWord[position]!);
        if (position - start + 1 >= minimum) counter.add(hash & mask, 1);
      }
    }
  }
}

function countWordGrams(counter: BucketTable, words: readonly string[], pseudoWords: readonly string[], options: FeatureOptions, mask: number): void {
  for (let start = 0; start < words.length; start += 1) {
    let hash = WORD_SEED;
    const end = Math.min(words.length, start + options.wordGramMaximum);
    for (let position = start; position < end; position += 1) {
      if (position > start) hash = hashStep(hash, WORD_SEPARATOR);
      hash = hashString(hash, words[position]!);
      counter.add(hash & mask, 1);
    }
  }
  for (const pseudoWord of pseudoWords) counter.add(hashString(WORD_SEED, pseudoWord) & mask, 1);
}

/** Fills the shared character and word blocks with the text's raw n-gram counts; the caller empties them. */
function countBlocks(text: string, options: FeatureOptions): Scratch {
  const normalised = normaliseText(text);
  const words = splitWords(normalised);
  const { pseudoWords, joinedWords } = handFeatures(text, normalised, words.length);
  const mask = (1 << options.bucketBits) - 1;
  countCharacterGrams(SCRATCH.characters, joinedWords.length === 0 ? words : [...words, ...joinedWords], options, mask);
  countWordGrams(SCRATCH.words, words, pseudoWords, options, mask);
  return SCRATCH;
}

/** Sublinear term frequency: a phrase repeated ten times is not ten times the evidence. Most counts are 1, which skips the logarithm. */
function sublinear(count: number): number {
  return count === 1 ? 1 : 1 + Math.log(count);
}

/**
 * The scale that L2-normalises a block to `share` of the squared norm, so long and short texts land on the same scale
 * and each block keeps its configured weight.
 */
function blockScale(block: BucketTable, share: number): number {
  let squaredNorm = 0;
  for (let index = 0; index < block.size; index += 1) {
    const weight = sublinear(block.counts[block.occupied[index]!]!);
    squaredNorm += weight * weight;
  }
  return squaredNorm > 0 && share > 0 ? Math.sqrt(share / squaredNorm) : 0;
}

function moveBlock(block: BucketTable, combined: BucketTable, share: number): void {
  const scale = blockScale(block, share);
  if (scale > 0) {
    for (let index = 0; index < block.size; index += 1) {
      const slot = block.occupied[index]!;
      combined.add(block.keys[slot]!, sublinear(block.counts[slot]!) * scale);
    }
  }
  block.clear();
}

/** The block's contribution to a dot product with `weights`, norm and sum in one pass; the block is left empty. */
function blockDotProduct(block: BucketTable, share: number, weights: ArrayLike<number>): number {
  let squaredNorm = 0;
  let sum = 0;
  for (let index = 0; index < block.size; index += 1) {
    const slot = block.occupied[index]!;
    const weight = sublinear(block.counts[slot]!);
    squaredNorm += weight * weight;
    sum += weight * weights[block.keys[slot]!]!;
  }
  block.clear();
  return squaredNorm > 0 && share > 0 ? sum * Math.sqrt(share / squaredNorm) : 0;
}

/** The feature vector of one text, as training needs it (the classifier cuts long texts into windows first). */
export function extractFeatures(text: string, options: FeatureOptions): SparseVector {
  const { characters, words, combined } = countBlocks(text, options);
  moveBlock(characters, combined, 1 - options.wordBlockShare);
  moveBlock(words, combined, options.wordBlockShare);
  const indices = Int32Array.from(combined.occupied.subarray(0, combined.size), (slot) => combined.keys[slot]!).sort();
  const values = Float64Array.from(indices, (bucket) => combined.get(bucket));
  combined.clear();
  return { indices, values };
}

/**
 * The dot product of the text's feature vector with dense `weights`, without building the vector: what run time needs,
 * at a fraction of the cost. Equal to the dot product with extractFeatures' vector (up to rounding), since a bucket that
 * both blocks touch simply adds up.
 */
export function featureDotProduct(text: string, options: FeatureOptions, weights: ArrayLike<number>): number {
  const { characters, words } = countBlocks(text, options);
  return blockDotProduct(characters, 1 - options.wordBlockShare, weights) + blockDotProduct(words, options.wordBlockShare, weights);
}

/**
 * Start offsets of the windows a long text is scored in: every `stride` characters, plus one flush with the end so the
 * tail gets a full-size window. A text no longer than one window is scored whole.
 */
export function windowStarts(length: number, window: number, stride: number): number[] {
  if (length <= window) return [0];
  const starts: number[] = [];
  for (let start = 0; start + window < length; start += stride) starts.push(start);
  starts.push(length - window);
  return starts;
}
