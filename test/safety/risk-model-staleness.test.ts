/**
 * The shipped model (data/safety/risk_model.json) must have been trained on the
 * current corpus (train.tsv, dev.tsv and the conversation corpus's client
 * inputs) as the current normaliser and feature code see it. The digests
 * hash the normalised text, so editing train.tsv or dev.tsv, or changing the
 * normaliser in a way that changes what the model reads, fails this test until
 * the model is retrained.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { conversationNegatives, corpusDigest, readLabelledTsv } from '../../src/safety/corpus.js';
import { DEFAULT_FEATURES } from '../../src/safety/model/features.js';
import { featuresRecord } from '../../src/safety/model/model-file.js';
import { RiskModel } from '../../src/safety/model/risk-model.js';
import { DATA_DIR, ROOT, repoConfig } from '../helpers.js';
import { grammarDigest } from '../../src/safety/grammar/digest.js';

// What npm run safety:train reads by default (see its --train and --dev).
const TRAIN_FILES = ['train.tsv', 'extra_train_a.tsv', 'extra_train_b.tsv', 'ordinary_train.tsv'];
const DEV_FILES = ['dev.tsv', 'ordinary_dev.tsv'];

const SAFETY = join(ROOT, 'data', 'safety');
const MODEL = join(SAFETY, 'risk_model.json');
const RETRAIN = 'Run `npm run safety:train` and commit data/safety/risk_model.json.';

describe('shipped risk model', () => {
  it('exists and loads', () => {
    expect(existsSync(MODEL), `${MODEL} is missing. ${RETRAIN}`).toBe(true);
    expect(() => RiskModel.load(MODEL)).not.toThrow();
  });

  it('was trained on the current train.tsv, dev.tsv and conversation corpus, normalised as today, with today\'s features', () => {
    const file = JSON.parse(readFileSync(MODEL, 'utf8')) as { trained_on: { train: unknown; dev: unknown; background: unknown; features: unknown; grammar: unknown } };
    const read = (...names: string[]) => names.flatMap((n) => readLabelledTsv(join(SAFETY, n)));
    const stale = (what: string) => `data/safety/risk_model.json is stale: ${what} changed since it was trained. ${RETRAIN}`;
    expect(file.trained_on.features, stale('the feature parameters')).toEqual(featuresRecord(DEFAULT_FEATURES));
    expect(file.trained_on.train, stale('the training files (or how the normaliser reads them)')).toEqual(corpusDigest(read(...TRAIN_FILES)));
    expect(file.trained_on.dev, stale('the dev files (or how the normaliser reads them)')).toEqual(corpusDigest(read(...DEV_FILES)));
    // The low threshold shares its false-alarm budget with the risk grammar's flags on dev.
    expect(file.trained_on.grammar, stale('config/system/core_system/risk_grammar.json')).toBe(grammarDigest(repoConfig().riskGrammar));
    // npm run safety:train adds the conversation corpus's client inputs as N lines (unless --no-conversation).
    expect(file.trained_on.background, stale('the client inputs of data/state_actions/all_dr_q_exchanges.json')).toEqual(corpusDigest(conversationNegatives(DATA_DIR)));
  });
});
