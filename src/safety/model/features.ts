/**
 * Hashed text features for the risk model, read from the normalised string
 * (`normalizeRiskText`), so training and inference see exactly the same text.
 *
 * Three kinds of feature, each hashed into one of 2^B buckets:
 *  - character n-grams (3 to 5) of the string padded with one space each side,
 *    which catch misspellings, leetspeak the normaliser missed and word pieces
 *    ("suicid", "overdos");
 *  - word unigrams: every word token (the break tokens "." and "," are not words);
 *  - word bigrams: two adjacent words with no break between them.
 * Presence is binary (a bucket counts once however often it is hit) and the
 * vector is L2-normalised, so every active bucket carries 1/sqrt(n).
 *
 * This runs on every message (budget: a few microseconds), so it is one pass over
 * the char codes and allocates nothing:
 *  - the last five characters are kept as 6-bit codes in one 30-bit integer
 *    (the normaliser's alphabet, space . , * 0-9 a-z, is 40 symbols), so the
 *    n-gram ending at a character is a mask of that integer (a rolling key, no
 *    substring), hashed with one multiply (Fibonacci hashing: the top B bits of
 *    key * 2^32/phi);
 *  - a word's hash is FNV-1a over its char codes, built as the pass goes, and
 *    a bigram's is a mix of its two words' hashes;
 *  - duplicates are found with a per-bucket stamp (a call number), not a Set,
 *    and the stamp shares an int32 with the bucket's weight, so one load says
 *    both whether a bucket is new and what it weighs: the weights are summed in
 *    the same pass.
 * Measured with `npm run safety:bench` on the 2-core development machine, for
 * a 200-character message: 1.8 to 2.5 us with everything in cache, 2.6 to 3.4 us
 * cycling through 1,000 different messages (the 1 MB table no longer fits the
 * core's cache), the spread being other load on the machine. A first version
 * with an FNV-1a hash per gram, a Float32Array of weights and a separate stamp
 * array took 9 to 12 us; branch-free stamp tests and a separate word pass were
 * tried and were slower.
 *
 * Changing how a feature is hashed changes every bucket: bump FEATURE_VERSION
 * and retrain (the golden-bucket test in test/safety/features.test.ts catches an
 * unbumped change).
 */

/** Version of the hashing scheme below; part of the model file, so a model hashed differently is refused. */
export const FEATURE_VERSION = 1;

/** What a model's features are; stored in the model file and in its `trained_on` record. */
export interface FeatureParams {
  /** Hashing scheme version (default FEATURE_VERSION). */
  version: number;
  /** log2 of the bucket count, 8..24 (default 18: 262,144 buckets). */
  bucketsLog2: number;
  /** Shortest character n-gram (default 3, the only value the unrolled loop supports). */
  charMin: number;
  /** Longest character n-gram (default 5, the only value: five 6-bit codes fill the 30-bit window). */
  charMax: number;
  /** Word bigrams as well as unigrams (default true). */
  wordBigrams: boolean;
}

/**
 * The feature parameters new models are trained with. 2^18 buckets rather than
 * 2^17: the 2,000-line train split has about 42,000 distinct features, and at
 * 2^17 about one in seven would share its bucket (one in fourteen at 2^18).
 * The bucket table (weight and stamp per bucket) then takes 1 MB per model.
 */
export const DEFAULT_FEATURES: Readonly<FeatureParams> = Object.freeze({
  version: FEATURE_VERSION,
  bucketsLog2: 18,
  charMin: 3,
  charMax: 5,
  wordBigrams: true,
});

const SPACE = 32;
const DOT = 46;
const COMMA = 44;
const OTHER = 63; // any character outside the normaliser's alphabet
const WINDOW = 0x3fffffff; // five 6-bit codes
const PHI = 0x9e3779b1 | 0; // 2^32 / golden ratio: Fibonacci hashing
const FNV_BASIS = 0x811c9dc5 | 0;
const FNV_PRIME = 0x01000193;
// Word and bigram hashes are xor-ed with their own tag before the final multiply,
// so the word "die", the bigram hash and the gram " di" are unrelated keys.
const WORD_TAG = 0x57a3c9e1 | 0;
const PAIR_TAG = 0x2d6b1f47 | 0;

/**
 * 6-bit code of every UTF-16 unit: 1 space, 2 '.', 3 ',', 4 '*', 5-14 digits,
 * 15-40 a-z, OTHER for the rest. A full 64k table (64 kB, of which the hot part
 * is two cache lines) so the hot loop needs no range check.
 */
const CODE = (() => {
  const code = new Uint8Array(65536).fill(OTHER);
  code[SPACE] = 1;
  code[DOT] = 2;
  code[COMMA] = 3;
  code[42] = 4;
  for (let c = 48; c <= 57; c++) code[c] = 5 + c - 48;
  for (let c = 97; c <= 122; c++) code[c] = 15 + c - 97;
  return code;
})();

/** murmur3's avalanche step, so the low bits of an FNV word hash depend on every char. */
function avalanche(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** Options of FeatureExtractor. */
export interface ExtractorOptions {
  /**
   * Quantised weight per bucket that `extract` sums into `dot` (default: all
   * zero). Integers, so the sum is exact and no summation order can change a score.
   */
  weights?: Int16Array;
  /** Keep the list of buckets in `buckets` (default true; the model turns it off, it needs only `dot`). */
  keepBuckets?: boolean;
}

/**
 * Hashes normalised strings into distinct buckets and sums a weight table over
 * them. One instance owns its scratch (the bucket table and the bucket list),
 * so calls allocate nothing but it is not re-entrant: read `buckets` and `dot`
 * before the next call.
 */
export class FeatureExtractor {
  /** The parameters this extractor hashes with. */
  readonly params: Readonly<FeatureParams>;
  /** Buckets of the last `extract` call, in first-seen order, up to the count it returned (if kept). */
  buckets: Int32Array;
  /** Sum of the int16 weights over the last call's distinct buckets. */
  dot = 0;
  private readonly keep: number;
  private readonly shift: number;
  /** Per bucket: the int16 weight in the high half, in the low half the stamp (call number mod 2^16) of the last call that saw it. */
  private readonly table: Int32Array;
  private stamp = 0;

  /** @param params feature parameters (default DEFAULT_FEATURES) */
  constructor(params: Readonly<FeatureParams> = DEFAULT_FEATURES, options: ExtractorOptions = {}) {
    checkParams(params);
    this.params = Object.freeze({ ...params });
    const size = 1 << params.bucketsLog2;
    if (options.weights && options.weights.length !== size) throw new Error(`weights has ${options.weights.length} entries for ${size} buckets`);
    this.table = new Int32Array(size);
    if (options.weights) for (let b = 0; b < size; b++) this.table[b] = options.weights[b]! << 16;
    // Not keeping buckets writes every one to buckets[0]: cheaper than a branch per gram.
    this.keep = options.keepBuckets === false ? 0 : -1;
    this.shift = 32 - params.bucketsLog2;
    this.buckets = new Int32Array(1024);
  }

  /** Number of buckets (2^bucketsLog2). */
  get size(): number {
    return this.table.length;
  }

  /**
   * Finds the distinct buckets of `s` (a normalised string): sets `dot` to the
   * sum of their weights, fills `buckets` if kept, and returns how many there
   * are. Each active bucket's feature value is 1/sqrt(count).
   */
  extract(s: string): number {
    const len = s.length;
    // Upper bound on buckets: three grams per padded position, a word and a bigram per two chars.
    const bound = 3 * (len + 2) + len + 2;
    if (this.keep !== 0 && this.buckets.length < bound) this.buckets = new Int32Array(Math.max(bound, this.buckets.length * 2));
    this.stamp = (this.stamp + 1) & 0xffff;
    if (this.stamp === 0) {
      // Every 65,535 calls: clear the stamps so no stale one can equal a new one.
      for (let b = 0; b < this.table.length; b++) this.table[b] = this.table[b]! & -65536;
      this.stamp = 1;
    }
    const stamp = this.stamp;
    const table = this.table;
    const out = this.buckets;
    const keep = this.keep;
    const shift = this.shift;
    const wordBigrams = this.params.wordBigrams;
    let n = 0;
    let dot = 0;
    let v = 0; // a table entry

    // Character j of the loop is padded position j + 1; j === len is the closing pad.
    let win = 1; // the opening pad space
    let word = FNV_BASIS;
    let wordLen = 0;
    let prevWord = 0;
    let havePrev = false;
    for (let j = 0; j <= len; j++) {
      const ch = j < len ? s.charCodeAt(j) : SPACE;
      win = ((win << 6) | CODE[ch]!) & WINDOW;
      // The 3-, 4- and 5-grams ending here: once 3, 4 and 5 padded characters are in.
      if (j >= 1) {
        let b = (Math.imul(win & 0x3ffff, PHI) >>> shift) | 0;
        v = table[b]!;
        if ((v & 0xffff) !== stamp) {
          table[b] = (v & -65536) | stamp;
          out[n++ & keep] = b;
          dot += v >> 16;
        }
        if (j >= 2) {
          b = (Math.imul(win & 0xffffff, PHI) >>> shift) | 0;
          v = table[b]!;
          if ((v & 0xffff) !== stamp) {
            table[b] = (v & -65536) | stamp;
            out[n++ & keep] = b;
            dot += v >> 16;
          }
          if (j >= 3) {
            b = (Math.imul(win, PHI) >>> shift) | 0;
            v = table[b]!;
            if ((v & 0xffff) !== stamp) {
              table[b] = (v & -65536) | stamp;
              out[n++ & keep] = b;
              dot += v >> 16;
            }
          }
        }
      }
      if (ch !== SPACE) {
        word = Math.imul(word ^ ch, FNV_PRIME);
        wordLen++;
        continue;
      }
      if (wordLen === 0) continue;
      const first = s.charCodeAt(j - wordLen);
      if (wordLen === 1 && (first === DOT || first === COMMA)) {
        havePrev = false; // a break: no bigram spans it
      } else {
        const h = avalanche(word);
        let b = (Math.imul(h ^ WORD_TAG, PHI) >>> shift) | 0;
        v = table[b]!;
        if ((v & 0xffff) !== stamp) {
          table[b] = (v & -65536) | stamp;
          out[n++ & keep] = b;
          dot += v >> 16;
        }
        if (wordBigrams && havePrev) {
          b = (Math.imul(avalanche(Math.imul(prevWord, FNV_PRIME) ^ h) ^ PAIR_TAG, PHI) >>> shift) | 0;
          v = table[b]!;
          if ((v & 0xffff) !== stamp) {
            table[b] = (v & -65536) | stamp;
            out[n++ & keep] = b;
            dot += v >> 16;
          }
        }
        prevWord = h;
        havePrev = true;
      }
      word = FNV_BASIS;
      wordLen = 0;
    }
    this.dot = dot;
    return n;
  }

  /** The distinct buckets of `s` as a fresh array (for training; inference uses `extract`). */
  bucketsOf(s: string): Uint32Array {
    if (this.keep === 0) throw new Error('this extractor does not keep buckets');
    const n = this.extract(s);
    return Uint32Array.from(this.buckets.subarray(0, n));
  }
}

/** Throws if the parameters are not ones this code can hash with. */
export function checkParams(p: Readonly<FeatureParams>): void {
  if (p.version !== FEATURE_VERSION) throw new Error(`feature version ${p.version} is not this code's ${FEATURE_VERSION}; retrain the model`);
  if (!Number.isInteger(p.bucketsLog2) || p.bucketsLog2 < 8 || p.bucketsLog2 > 24) throw new Error(`bucketsLog2 must be an integer 8..24, got ${p.bucketsLog2}`);
  // The hot loop is unrolled for 3- to 5-grams; another range needs code, not just a parameter.
  if (p.charMin !== 3 || p.charMax !== 5) throw new Error(`character n-grams ${p.charMin}..${p.charMax}: this code hashes 3- to 5-grams only`);
}
