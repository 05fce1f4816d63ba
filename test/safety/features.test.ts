/** The risk model's hashed features (src/safety/model/features.ts). */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DEFAULT_FEATURES, FeatureExtractor } from '../../src/safety/model/features.js';
import { normalizeRiskText } from '../../src/safety/normalize.js';

const extractor = new FeatureExtractor();
const buckets = (s: string) => [...extractor.bucketsOf(s)];
const count = (s: string, e = extractor) => e.extract(s);

describe('FeatureExtractor', () => {
  // If this fails, the hashing changed: every shipped bucket moved. Bump FEATURE_VERSION,
  // run npm run safety:train, and update the digest here.
  it('hashes as it did when the model was trained (golden buckets)', () => {
    const hash = createHash('sha256');
    for (const s of ['i want to die . my back , hurts', 'kill myself', 'a', 'f*ck this . im ok', 'caf\u00e9 \u2603 x']) hash.update(`${JSON.stringify(buckets(s))}\n`);
    expect(hash.digest('hex')).toBe('f2234ba9e3ce4f19c1171162c3556e40f220af19ecd69d3e4644fecb8eaba6ff');
    expect(buckets('kill myself').slice(0, 6)).toEqual([140606, 129802, 103962, 58527, 198959, 118063]);
  });

  it('counts the padded 3- to 5-grams and the words: " abc " has 3 + 2 + 1 grams and one word', () => {
    expect(count('abc')).toBe(7);
    expect(count('a')).toBe(2); // " a " and the word
    expect(count('')).toBe(0);
  });

  it('is binary: a repeated word or phrase adds no bucket', () => {
    expect(count('die die die')).toBe(count('die die'));
    expect(new Set(buckets('die die die'))).toEqual(new Set(buckets('die die')));
    expect(new Set(buckets('i want to die'))).toEqual(new Set(buckets('i want to die')));
  });

  it('forms bigrams of adjacent words only, never across a sentence or clause break', () => {
    const unigrams = new FeatureExtractor({ ...DEFAULT_FEATURES, wordBigrams: false });
    expect(count('i want to die') - count('i want to die', unigrams)).toBe(3);
    expect(count('i want . to die') - count('i want . to die', unigrams)).toBe(2);
    expect(count('i want , to die') - count('i want , to die', unigrams)).toBe(2);
  });

  it('gives the same buckets however calls interleave (the stamps do not leak between calls)', () => {
    const a = buckets('i keep thinking about ending it');
    buckets('something else entirely , with a clause');
    expect(buckets('i keep thinking about ending it')).toEqual(a);
    // Long inputs grow the scratch and still match a fresh extractor.
    const long = normalizeRiskText('I am so tired of everything. '.repeat(200));
    expect(buckets(long)).toEqual([...new FeatureExtractor().bucketsOf(long)]);
  });

  it('survives the stamp wrapping around (every 65,535 calls)', () => {
    const e = new FeatureExtractor();
    const first = [...e.bucketsOf('i want to die')];
    for (let i = 0; i < 70_000; i++) e.extract('x y');
    expect([...e.bucketsOf('i want to die')]).toEqual(first);
  });

  it('sums the weights of distinct buckets exactly, once each', () => {
    const weights = new Int16Array(extractor.size);
    const bs = buckets('die die die'); // " die " and the word "die" occur three times each
    bs.forEach((b, i) => (weights[b] = i + 1));
    const weighted = new FeatureExtractor(DEFAULT_FEATURES, { weights, keepBuckets: false });
    expect(weighted.extract('die die die')).toBe(bs.length);
    expect(weighted.dot).toBe((bs.length * (bs.length + 1)) / 2);
    expect(() => weighted.bucketsOf('x')).toThrow(/does not keep buckets/);
  });

  it('maps characters outside the normaliser alphabet to one code without failing', () => {
    expect(count('\u{1f600} \u00e9\u00e9\u00e9')).toBeGreaterThan(0);
    expect(Math.max(...buckets('\uffff\u0000 x'))).toBeLessThan(extractor.size);
  });

  it('rejects parameters this code cannot hash with', () => {
    expect(() => new FeatureExtractor({ ...DEFAULT_FEATURES, version: 99 })).toThrow(/feature version 99/);
    expect(() => new FeatureExtractor({ ...DEFAULT_FEATURES, charMax: 6 })).toThrow(/3- to 5-grams/);
    expect(() => new FeatureExtractor({ ...DEFAULT_FEATURES, bucketsLog2: 30 })).toThrow(/bucketsLog2/);
    expect(() => new FeatureExtractor(DEFAULT_FEATURES, { weights: new Int16Array(10) })).toThrow(/weights has 10 entries/);
  });
});
