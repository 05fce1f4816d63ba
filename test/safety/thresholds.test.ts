/** chooseThresholds and the dev figures (src/safety/model/thresholds.ts). */
import { describe, expect, it } from 'vitest';
import { auc, chooseThresholds, rates, THRESHOLD_DEFAULTS } from '../../src/safety/model/thresholds.js';
import { mulberry32 } from '../prng.js';

const random = mulberry32;

/** Overlapping score distributions: 400 N around 0.3, 300 risk around 0.7. */
function sample(seed: number) {
  const r = random(seed);
  const scores: number[] = [];
  const isRisk: boolean[] = [];
  for (let i = 0; i < 700; i++) {
    const risk = i % 7 < 3;
    scores.push(Math.min(1, Math.max(0, (risk ? 0.7 : 0.3) + (r() + r() + r() - 1.5) * 0.4)));
    isRisk.push(risk);
  }
  return { scores, isRisk, r };
}

const fprAt = (t: number, scores: number[], isRisk: boolean[], already: boolean[] = []) =>
  rates(
    scores.map((s, i) => s >= t || (already[i] ?? false)),
    isRisk,
  ).fpr;

describe('chooseThresholds', () => {
  it.each([1, 2, 3, 4, 5])('keeps both false-positive rates within their caps and is the lowest that does (seed %i)', (seed) => {
    const { scores, isRisk, r } = sample(seed);
    const already = scores.map(() => r() < 0.005); // the other detector: about 2 of the 400 N items
    const t = chooseThresholds(scores, isRisk, { ...THRESHOLD_DEFAULTS, alreadyFlagged: already });
    expect(fprAt(t.high, scores, isRisk)).toBeLessThanOrEqual(THRESHOLD_DEFAULTS.maxFprHigh);
    expect(t.low).toBeLessThan(t.high);
    expect(fprAt(t.low, scores, isRisk, already)).toBeLessThanOrEqual(THRESHOLD_DEFAULTS.maxFprLow);
    // Lowest: the next score down (the highest N score left unflagged) would break the cap.
    const below = (t: number) => Math.max(...scores.filter((s, i) => !isRisk[i] && s < t));
    expect(fprAt(below(t.high), scores, isRisk)).toBeGreaterThan(THRESHOLD_DEFAULTS.maxFprHigh);
    expect(fprAt(below(t.low), scores, isRisk, already)).toBeGreaterThan(THRESHOLD_DEFAULTS.maxFprLow);
  });

  it('flags the same dev items as the lowest threshold would, with the margin split evenly', () => {
    // N scores 0.1..0.9 (9 items) and one risk item at 0.95; a cap of 1/9 lets one N item through.
    const scores = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95];
    const isRisk = scores.map((s) => s === 0.95);
    const t = chooseThresholds(scores, isRisk, { maxFprHigh: 1 / 9, maxFprLow: 4 / 9 });
    expect(t.high).toBeCloseTo(0.85, 12); // between 0.8 (stays unflagged) and 0.9 (may be flagged)
    expect(t.low).toBeCloseTo(0.55, 12);
  });

  it('counts what another detector already flags against the low cap first', () => {
    const scores = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95];
    const isRisk = scores.map((s) => s === 0.95);
    const already = scores.map((s) => s === 0.1 || s === 0.2); // two N items flagged elsewhere
    const t = chooseThresholds(scores, isRisk, { maxFprHigh: 1 / 9, maxFprLow: 4 / 9, alreadyFlagged: already });
    expect(t.low).toBeCloseTo(0.75, 12); // two left of the budget of four: 0.8 and 0.9
  });

  it('sets low to high when the other detector alone exceeds the low cap', () => {
    const scores = [0.1, 0.2, 0.3, 0.9];
    const isRisk = [false, false, false, true];
    const t = chooseThresholds(scores, isRisk, { maxFprHigh: 0, maxFprLow: 0, alreadyFlagged: [true, false, false, false] });
    expect(t.low).toBe(t.high);
    expect(t.high).toBeCloseTo(0.6, 12);
  });

  it('returns 0 when the cap allows every N item, and above every N score when it allows none', () => {
    const t = chooseThresholds([0.2, 0.4, 0.9], [false, false, true], { maxFprHigh: 0, maxFprLow: 1 });
    expect(t.high).toBeCloseTo(0.65, 12);
    expect(t.low).toBe(0);
    // No higher score to split the gap with: halfway to 1.
    expect(chooseThresholds([0.2, 0.4], [true, false], { maxFprHigh: 0, maxFprLow: 0 }).high).toBeCloseTo(0.7, 12);
  });

  it('rejects mismatched lengths, caps outside [0, 1] and a set without N items', () => {
    expect(() => chooseThresholds([0.1], [false, true])).toThrow(/differ in length/);
    expect(() => chooseThresholds([0.1], [false], { maxFprHigh: 2, maxFprLow: 0 })).toThrow(/maxFprHigh/);
    expect(() => chooseThresholds([0.1], [true])).toThrow(/no N items/);
  });
});

describe('auc', () => {
  it('is 1 for a perfect ranking, 0 for a reversed one, 0.5 for ties', () => {
    expect(auc([0.1, 0.2, 0.8, 0.9], [false, false, true, true])).toBe(1);
    expect(auc([0.9, 0.8, 0.2, 0.1], [false, false, true, true])).toBe(0);
    expect(auc([0.5, 0.5, 0.5, 0.5], [false, true, false, true])).toBe(0.5);
    expect(auc([0.1, 0.4, 0.35, 0.8], [false, false, true, true])).toBe(0.75);
  });
});
