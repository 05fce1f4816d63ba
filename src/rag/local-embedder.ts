/**
 * The `local` embedder: a lexical embedding that needs no network and no
 * model files. Features are word unigrams, word bigrams and character 3- to
 * 5-grams of each word, hashed (FNV-1a, signed) into a fixed dimension, with
 * sublinear TF weighting (1 + ln tf), a lower weight for function words and
 * a few punctuation-shape features (question, ellipsis, no words);
 * the result is L2-normalised. Deterministic: the same text always gives the
 * same vector, on every machine.
 */
import { normalize } from '../text/normalize.js';
import { l2normalize, type Embedder } from './embedder.js';

/** Model name recorded in index metadata; bump when the features change. */
export const LOCAL_MODEL = 'hashed-ngrams-v2';

const FUNCTION_WORDS = new Set(
  'a an the and or but so to of in on at for with by from about as is are was were be been am i me my mine you your it its this that these those we our they them their he she his her do does did have has had just really very like im ive id its dont cant there here what when how would could should will can if then than not no'.split(
    ' ',
  ),
);

/** Relative weight of each feature family. */
const WEIGHT = { word: 1, functionWord: 0.25, bigram: 0.6, char: 0.35, shape: 0.5 } as const;

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const fnvStep = (h: number, code: number): number => Math.imul(h ^ code, FNV_PRIME);
function fnvString(h: number, s: string, from = 0, to = s.length): number {
  for (let i = from; i < to; i++) h = fnvStep(h, s.charCodeAt(i));
  return h;
}
/** Family seeds keep "w:pain" and "c:pain" apart without building prefixed strings. */
const SEED = { word: fnvStep(FNV_OFFSET, 119), bigram: fnvStep(FNV_OFFSET, 98), char: fnvStep(FNV_OFFSET, 99), shape: fnvStep(FNV_OFFSET, 112) };

export class LocalEmbedder implements Embedder {
  readonly provider = 'local';
  readonly model = LOCAL_MODEL;

  constructor(readonly dimension = 384) {
    if (!Number.isInteger(dimension) || dimension < 16) throw new Error(`local embedder dimension must be an integer >= 16, got ${dimension}`);
  }

  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    return texts.map((t) => this.embedOne(t));
  }

  /** Synchronous form (used on the hot path: no promise per query). */
  embedOne(text: string): Float32Array {
    // Features are identified by their 32-bit FNV-1a hash (computed from char codes, no substrings):
    // hash -> [family weight, count].
    const features = new Map<number, [number, number]>();
    const add = (hash: number, weight: number) => {
      const f = features.get(hash);
      if (f) f[1]++;
      else features.set(hash, [weight, 1]);
    };
    const words = normalize(text).split(' ').filter((w) => w.length > 0);
    for (let i = 0; i < words.length; i++) {
      const w = words[i]!;
      const fn = FUNCTION_WORDS.has(w);
      const wordHash = fnvString(SEED.word, w);
      add(wordHash, fn ? WEIGHT.functionWord : WEIGHT.word);
      if (i + 1 < words.length) add(fnvString(fnvStep(fnvString(SEED.bigram, w), 32), words[i + 1]!), WEIGHT.bigram);
      if (fn) continue;
      // Character 3- to 5-grams of "<word>", the brackets marking the word's edges.
      const len = w.length + 2;
      const code = (j: number) => (j === 0 ? 60 : j === len - 1 ? 62 : w.charCodeAt(j - 1));
      for (let j = 0; j + 3 <= len; j++) {
        let h = fnvStep(fnvStep(fnvStep(SEED.char, code(j)), code(j + 1)), code(j + 2));
        add(h, WEIGHT.char);
        for (let n = 4; n <= 5 && j + n <= len; n++) {
          h = fnvStep(h, code(j + n - 1));
          add(h, WEIGHT.char);
        }
      }
    }
    // Shape features: a question, an ellipsis, or no words at all ("...", "?") carry meaning too.
    if (text.includes('?')) add(fnvStep(SEED.shape, 63), WEIGHT.shape);
    if (text.includes('...') || text.includes('…')) add(fnvStep(SEED.shape, 8230), WEIGHT.shape);
    if (words.length === 0) add(fnvStep(SEED.shape, 0), WEIGHT.word);
    const v = new Float32Array(this.dimension);
    for (const [hash, [weight, count]] of features) {
      const h = hash >>> 0;
      const value = weight * (1 + Math.log(count)); // sublinear TF
      v[h % this.dimension]! += h & 0x80000000 ? -value : value; // the sign bit halves collision bias
    }
    return l2normalize(v);
  }
}
