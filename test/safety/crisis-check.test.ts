/**
 * The whole crisis check as every instance runs it: normalisation, the risk grammar and the
 * shipped model, on ordinary conversation and on the project's labelled sets.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CrisisCheck, type RiskScorer } from '../../src/safety/crisis-check.js';
import { readLabelledTsv } from '../../src/safety/corpus.js';
import { evaluate } from '../../src/safety/eval.js';
import { shippedRiskModel } from '../../src/safety/model/shipped.js';
import { exchanges, repoConfig, ROOT } from '../helpers.js';

const config = repoConfig();
const check = new CrisisCheck(config.safety, config.riskGrammar, shippedRiskModel());

describe('crisis check: grammar and model together', () => {
  it('ordinary conversation never gets the crisis response, and a check-in at most once in 200 messages', () => {
    // The corpus inputs are in the model's training data (as N lines); the held-out paraphrases are not.
    const heldout = JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'rag_heldout.json'), 'utf8')) as { items: Array<{ text: string }> };
    const texts = [...exchanges.map((e) => e.client_input), ...heldout.items.map((i) => i.text)];
    expect(texts.length).toBeGreaterThan(400);
    const assessed = texts.map((t) => check.assess(t));
    expect(texts.filter((_t, i) => assessed[i]!.risk)).toEqual([]);
    // Measured: 2 of 506 (0.4%), both the model's check-in on a held-out paraphrase. The budget is the price of recall.
    expect(assessed.filter((a) => a.possible).length).toBeLessThanOrEqual(Math.floor(texts.length / 200));
  });

  // The development sets were written independently of the grammar, then used to improve it:
  // they guard what was fixed. The final sets (crisis_test.tsv, data/safety/test.tsv) are never
  // used for tuning; their figures are reported by `npm run safety:eval` and the bench, not asserted.
  it.each(['crisis_set.tsv', 'crisis_heldout.tsv'])('development set %s: every explicit statement caught', (file) => {
    const r = evaluate(check, readLabelledTsv(join(ROOT, 'test', 'fixtures', file)), file);
    expect(r.misses.filter((m) => m.label === 'E').map((m) => m.text)).toEqual([]);
  });

  // The untouched sets are never used for tuning: these floors sit just under the figures measured
  // on 2026-12-01 (docs/safety.md) so that a change which makes the check worse fails here.
  it.each([
    ['data/safety/test.tsv', { E: 0.97, I: 0.74, fa: 0.04 }],
    ['test/fixtures/crisis_test.tsv', { E: 0.96, I: 0.9, fa: 0.0 }],
  ] as const)('untouched set %s stays within its measured floors', (file, floor) => {
    const r = evaluate(check, readLabelledTsv(join(ROOT, file)), file);
    expect(r.recall.E!.rate).toBeGreaterThanOrEqual(floor.E);
    expect(r.recall.I!.rate).toBeGreaterThanOrEqual(floor.I);
    expect(r.falseAlarms!.rate).toBeLessThanOrEqual(floor.fa);
  });

  it('the model adds what no frame describes, as a check-in below its high threshold', () => {
    // A scorer standing in for the model, to pin down how the two opinions combine.
    const scorer = (p: number): RiskScorer => ({ score: () => p, thresholds: { high: 0.9, low: 0.6 } });
    const text = 'everything feels grey and far away lately';
    expect(new CrisisCheck(config.safety, config.riskGrammar, scorer(0.95)).assess(text)).toMatchObject({ risk: 'crisis', reasons: ['model'] });
    expect(new CrisisCheck(config.safety, config.riskGrammar, scorer(0.7)).assess(text)).toMatchObject({ risk: null, possible: 'crisis', reasons: ['model'] });
    expect(new CrisisCheck(config.safety, config.riskGrammar, scorer(0.3)).assess(text)).toMatchObject({ risk: null, possible: null });
    // A frame a scope rule cancelled ("I would never...") leaves the model a check-in at most.
    expect(new CrisisCheck(config.safety, config.riskGrammar, scorer(0.95)).assess('I would never kill myself')).toMatchObject({ risk: null, possible: 'crisis' });
  });

  it('the model alone speaks from three words on: one- and two-word messages are the grammar\'s', () => {
    const sure: RiskScorer = { score: () => 0.99, thresholds: { high: 0.9, low: 0.6 } };
    const strict = new CrisisCheck(config.safety, config.riskGrammar, sure);
    for (const text of ['one', 'ok then', 'yes']) expect(strict.assess(text), text).toMatchObject({ risk: null, possible: null });
    expect(strict.assess('kms')).toMatchObject({ risk: 'crisis' }); // the grammar's, not the model's
    expect(strict.assess('all of it feels far away')).toMatchObject({ risk: 'crisis', reasons: ['model'] });
  });

  it('reports reasons as frame ids and never the text', () => {
    const a = check.assess('I want to end my life tonight');
    expect(a.risk).toBe('crisis');
    expect(a.reasons.length).toBeGreaterThan(0);
    for (const r of a.reasons) expect(r).toMatch(/^[a-z_]+$/);
  });

  it('is deterministic: the same message, the same assessment', () => {
    const lines = readLabelledTsv(join(ROOT, 'data', 'safety', 'dev.tsv')).slice(0, 200);
    const once = lines.map((l) => check.assess(l.text));
    const twice = lines.map((l) => check.assess(l.text));
    expect(twice).toEqual(once);
  });
});
