/**
 * The whole training run behind `npm run safety:train`, as a function the
 * tests can call: features of the train split (and of any background N lines),
 * the logistic fit, quantised weights, thresholds chosen on the dev split with
 * the quantised model (the one that ships), dev figures, and the file text.
 *
 * Deterministic end to end: features are hashed, the fit is full-batch in
 * corpus order, keys are written in one order and there is no timestamp, so
 * the same corpus gives the same bytes.
 */
import { corpusDigest, isRiskLabel, type LabelledLine } from '../corpus.js';
import { normalizeRiskText } from '../normalize.js';
import { DEFAULT_FEATURES, FeatureExtractor, type FeatureParams } from './features.js';
import { LOGISTIC_DEFAULTS, trainLogistic, type LogisticFit } from './logistic.js';
import { MODEL_FORMAT, MODEL_FORMAT_VERSION, encodeWeights, featuresRecord, type ModelFile, type RatesRecord } from './model-file.js';
import { RiskModel } from './risk-model.js';
import { THRESHOLD_DEFAULTS, auc, chooseThresholds, rates } from './thresholds.js';

/** Options of trainRiskModel. */
export interface TrainRiskModelOptions {
  /** Further N lines to train on after `train`, e.g. conversationNegatives() (default none); recorded in trained_on.background. */
  background?: readonly LabelledLine[];
  /** Feature parameters (default DEFAULT_FEATURES). */
  features?: Readonly<FeatureParams>;
  /** L2 penalty (default LOGISTIC_DEFAULTS.l2, 1e-5). */
  l2?: number;
  /** Iteration cap of the fit (default LOGISTIC_DEFAULTS.maxIterations, 400). */
  maxIterations?: number;
  /** FPR cap of the `high` threshold on dev N lines (default 0.005). */
  maxFprHigh?: number;
  /** FPR cap of the `low` threshold on dev N lines (default 0.015). */
  maxFprLow?: number;
  /** Dev lines another detector already flags (aligned with `dev`); see chooseThresholds. Default: none. */
  devAlreadyFlagged?: readonly boolean[];
  /** Digest of that detector (the risk grammar), recorded so a changed grammar shows the model stale. */
  grammarDigest?: string;
  /** Progress of the fit: iteration, iteration cap. */
  onProgress?: (iteration: number, maxIterations: number) => void;
}

/** What a training run gives. */
export interface TrainedRiskModel {
  /** The model file's content. */
  file: ModelFile;
  /** The file's text, exactly as written to disk. */
  json: string;
  /** The shipped (quantised) model. */
  model: RiskModel;
  /** Its score of each dev line, in order. */
  devScores: number[];
  /** The unquantised fit. */
  fit: LogisticFit;
}

/** Text written for a model file: two-space JSON with a final newline. */
export function serializeModelFile(file: ModelFile): string {
  return `${JSON.stringify(file, null, 2)}\n`;
}

/** Trains on `train`, sets thresholds on `dev` (see the file comment). */
export function trainRiskModel(train: readonly LabelledLine[], dev: readonly LabelledLine[], opts: TrainRiskModelOptions = {}): TrainedRiskModel {
  const features = opts.features ?? DEFAULT_FEATURES;
  const l2 = opts.l2 ?? LOGISTIC_DEFAULTS.l2;
  const maxIterations = opts.maxIterations ?? LOGISTIC_DEFAULTS.maxIterations;
  const maxFprHigh = opts.maxFprHigh ?? THRESHOLD_DEFAULTS.maxFprHigh;
  const maxFprLow = opts.maxFprLow ?? THRESHOLD_DEFAULTS.maxFprLow;

  const background = opts.background ?? [];
  if (background.some((l) => l.label !== 'N')) throw new Error('background lines must all be N');
  const fitOn = [...train, ...background];
  const extractor = new FeatureExtractor(features);
  const rows = fitOn.map((l) => extractor.bucketsOf(normalizeRiskText(l.text)));
  const fit = trainLogistic(
    rows,
    fitOn.map((l) => isRiskLabel(l.label)),
    { l2, maxIterations, ...(opts.onProgress ? { onProgress: (i: number, max: number) => opts.onProgress!(i, max) } : {}) },
  );

  const record = featuresRecord(features);
  const draft: ModelFile = {
    format: MODEL_FORMAT,
    format_version: MODEL_FORMAT_VERSION,
    description:
      'Trained second opinion of the crisis check: logistic regression over hashed word and character n-grams of normalizeRiskText(message). ' +
      'Flag at score >= thresholds.high (model alone) or >= thresholds.low (see src/safety/model/thresholds.ts). Regenerate with npm run safety:train; do not edit.',
    features: record,
    bias: fit.bias,
    weights: encodeWeights(fit.buckets, fit.weights),
    thresholds: { high: 1, low: 1 },
    trained_on: { train: corpusDigest(train), dev: corpusDigest(dev), background: opts.background ? corpusDigest(background) : null, features: { ...record }, grammar: opts.grammarDigest ?? null },
    training: { l2, class_balanced: true, max_iterations: maxIterations, iterations: fit.iterations, converged: fit.converged, max_fpr_high: maxFprHigh, max_fpr_low: maxFprLow },
    dev_metrics: { lines: 0, risk: 0, auc: null, high: emptyRates(), low: emptyRates() },
  };

  // Thresholds come from the quantised model, the one that ships.
  const quantised = RiskModel.fromJSON(draft, 'trained model');
  const devScores = dev.map((l) => quantised.score(normalizeRiskText(l.text)));
  const devRisk = dev.map((l) => isRiskLabel(l.label));
  const thresholds = chooseThresholds(devScores, devRisk, {
    maxFprHigh,
    maxFprLow,
    ...(opts.devAlreadyFlagged ? { alreadyFlagged: opts.devAlreadyFlagged } : {}),
  });
  const at = (t: number, already?: readonly boolean[]): RatesRecord => {
    const flagged = devScores.map((s, i) => s >= t || (already?.[i] ?? false));
    const all = rates(flagged, devRisk);
    const only = (label: 'E' | 'I') => {
      const idx = dev.flatMap((l, i) => (l.label === label ? [i] : []));
      return idx.length > 0 ? round(idx.filter((i) => flagged[i]).length / idx.length) : null;
    };
    return { recall: round(all.recall), recall_E: only('E'), recall_I: only('I'), fpr: round(all.fpr), flagged_risk: all.flaggedRisk, flagged_n: all.flaggedN };
  };
  const file: ModelFile = {
    ...draft,
    thresholds,
    dev_metrics: {
      lines: dev.length,
      risk: devRisk.filter(Boolean).length,
      auc: round(auc(devScores, devRisk)),
      high: at(thresholds.high),
      low: at(thresholds.low, opts.devAlreadyFlagged),
    },
  };
  return { file, json: serializeModelFile(file), model: RiskModel.fromJSON(file, 'trained model'), devScores, fit };
}

function emptyRates(): RatesRecord {
  return { recall: null, recall_E: null, recall_I: null, fpr: null, flagged_risk: 0, flagged_n: 0 };
}

/** Four decimals for the record; NaN (an empty class) as null. */
function round(x: number): number | null {
  return Number.isNaN(x) ? null : Math.round(x * 1e4) / 1e4;
}
