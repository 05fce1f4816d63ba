/**
 * The risk model end to end on a small real corpus (test/fixtures/safety-mini.tsv):
 * training is deterministic, the fit ranks risk above N, and the model file is
 * validated on load with errors that name the file.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isRiskLabel, readLabelledTsv } from '../../src/safety/corpus.js';
import { trainLogistic } from '../../src/safety/model/logistic.js';
import { decodeWeights, encodeWeights } from '../../src/safety/model/model-file.js';
import { RiskModel, RiskModelError } from '../../src/safety/model/risk-model.js';
import { trainRiskModel } from '../../src/safety/model/train.js';
import { normalizeRiskText } from '../../src/safety/normalize.js';
import { ROOT } from '../helpers.js';

const FIXTURE = join(ROOT, 'test', 'fixtures', 'safety-mini.tsv');
const lines = readLabelledTsv(FIXTURE);
const trained = trainRiskModel(lines, lines);
const dir = mkdtempSync(join(tmpdir(), 'trt-risk-model-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The model file with `patch` applied to a deep copy. */
function patched(patch: (f: Record<string, any>) => void): unknown {
  const f = JSON.parse(trained.json) as Record<string, any>;
  patch(f);
  return f;
}

describe('training', () => {
  it('is deterministic: the same corpus gives byte-identical files', () => {
    const again = trainRiskModel(readLabelledTsv(FIXTURE), readLabelledTsv(FIXTURE));
    expect(again.json).toBe(trained.json);
    expect(trained.json).not.toMatch(/20\d\d-\d\d-\d\d/); // no timestamp
  });

  it('ranks every risk line of its training corpus above every N line', () => {
    const scores = lines.map((l) => trained.model.score(normalizeRiskText(l.text)));
    const risk = scores.filter((_, i) => isRiskLabel(lines[i]!.label));
    const safe = scores.filter((_, i) => !isRiskLabel(lines[i]!.label));
    expect(Math.min(...risk)).toBeGreaterThan(Math.max(...safe));
    expect(trained.file.dev_metrics.auc).toBe(1);
    expect(trained.fit.converged).toBe(true);
  });

  it('records what it was trained on and how, and thresholds with low <= high', () => {
    const f = trained.file;
    expect(f.trained_on.train).toEqual(f.trained_on.dev);
    expect(f.trained_on.train.lines).toBe(lines.length);
    expect(f.trained_on.features).toEqual(f.features);
    expect(f.thresholds.low).toBeLessThanOrEqual(f.thresholds.high);
    expect(f.dev_metrics.high.fpr).toBe(0);
    expect(trained.json.length).toBeLessThan(100_000);
  });

  it('scores in 0..1, and scoreText normalises first', () => {
    const m = trained.model;
    for (const t of ['', 'I want to kill myself', 'my shoulders are tight']) {
      const s = m.scoreText(t);
      expect(s).toBeGreaterThan(0);
      expect(s).toBeLessThan(1);
      expect(s).toBe(m.score(normalizeRiskText(t)));
    }
    expect(m.scoreText('i wanna kms tonight')).toBeGreaterThan(m.scoreText('i want a coffee tonight'));
  });

  it('trainLogistic refuses a corpus with one class', () => {
    expect(() => trainLogistic([Uint32Array.of(1)], [true])).toThrow(/both risk and non-risk/);
  });
});

describe('weights encoding', () => {
  it('round-trips sparse weights within half a quantisation step, dropping those that round to 0', () => {
    const buckets = Uint32Array.of(0, 5, 127, 128, 16_383, 16_384, 262_143);
    const weights = Float64Array.of(1.5, -2, 0.25, 3e-9, -0.001, 2.75, -3);
    const enc = encodeWeights(buckets, weights);
    expect(enc.count).toBe(6);
    const dense = decodeWeights(enc, 18);
    buckets.forEach((b, k) => expect(Math.abs(dense[b]! * enc.scale - weights[k]!)).toBeLessThanOrEqual(enc.scale / 2));
    expect(dense[128]).toBe(0);
  });

  it('rejects an encoding whose parts disagree', () => {
    const enc = encodeWeights(Uint32Array.of(3, 9), Float64Array.of(1, -1));
    expect(() => decodeWeights({ ...enc, count: 3 }, 18)).toThrow(/count says 3/);
    expect(() => decodeWeights({ ...enc, buckets: Buffer.from([3]).toString('base64') }, 18)).toThrow(/ends after 1 of 2/);
    expect(() => decodeWeights(encodeWeights(Uint32Array.of(300), Float64Array.of(1)), 8)).toThrow(/outside 2\^8/);
  });
});

describe('RiskModel.load and fromJSON', () => {
  it('loads what training wrote and scores identically', () => {
    const file = join(dir, 'model.json');
    writeFileSync(file, trained.json);
    const loaded = RiskModel.load(file);
    expect(loaded.thresholds).toEqual(trained.file.thresholds);
    for (const l of lines) expect(loaded.scoreText(l.text)).toBe(trained.model.scoreText(l.text));
  });

  it('names the file when it is missing, not JSON, or invalid', () => {
    expect(() => RiskModel.load(join(dir, 'absent.json'))).toThrow(/absent\.json: model file not found \(train one with npm run safety:train\)/);
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{"format":');
    expect(() => RiskModel.load(broken)).toThrow(/broken\.json: not valid JSON/);
    const invalid = join(dir, 'invalid.json');
    writeFileSync(invalid, JSON.stringify(patched((f) => (f.thresholds = { high: 0.2, low: 0.9 }))));
    expect(() => RiskModel.load(invalid)).toThrow(RiskModelError);
    expect(() => RiskModel.load(invalid)).toThrow(/invalid\.json: invalid risk model file:\n {2}thresholds: low must not exceed high/);
  });

  it.each([
    ['another format', (f: Record<string, any>) => (f.format = 'something-else'), /format/],
    ['another feature version', (f: Record<string, any>) => (f.features.version = 2), /features\.version: feature version must be 1/],
    ['features unlike trained_on.features', (f: Record<string, any>) => (f.trained_on.features.word_bigrams = false), /trained_on\.features must equal features/],
    ['an unknown key', (f: Record<string, any>) => (f.extra = 1), /Unrecognized key/],
    ['a weight count that disagrees', (f: Record<string, any>) => (f.weights.count += 1), /weights\.values holds/],
    ['a threshold above 1', (f: Record<string, any>) => (f.thresholds.high = 1.5), /thresholds\.high/],
  ])('rejects %s', (_, patch, message) => {
    expect(() => RiskModel.fromJSON(patched(patch), 'fixture model')).toThrow(message);
    expect(() => RiskModel.fromJSON(patched(patch), 'fixture model')).toThrow(/^fixture model: /);
  });
});
