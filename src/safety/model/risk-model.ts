/**
 * The trained second opinion of the crisis check: a linear model over hashed
 * n-grams of the normalised message (features.ts), loaded from
 * data/safety/risk_model.json (model-file.ts) and trained by
 * `npm run safety:train`.
 *
 * It is a second opinion, not the check: it reads the same normalised string as
 * the risk grammar and reports a probability, and the two thresholds in its
 * file say how sure is sure (`high`: the model alone may flag; `low`: the
 * combined false-alarm budget with the grammar, see thresholds.ts).
 */
import { readFileSync } from 'node:fs';
import { normalizeRiskText } from '../normalize.js';
import { FeatureExtractor } from './features.js';
import { ModelFileSchema, decodeWeights, featureParams, type ModelFile } from './model-file.js';
import type { Thresholds } from './thresholds.js';

export { chooseThresholds, THRESHOLD_DEFAULTS, type ThresholdOptions, type Thresholds } from './thresholds.js';

/** A model file that cannot be read, parsed or validated; the message names the file. */
export class RiskModelError extends Error {
  /** @param source the file (or "model object") the problem is in */
  constructor(
    readonly source: string,
    problem: string,
  ) {
    super(`${source}: ${problem}`);
    this.name = 'RiskModelError';
  }
}

/**
 * The risk model: `score` a normalised message, compare with `thresholds`.
 * Scoring reuses one scratch table (no allocation per call), which is safe
 * because JavaScript runs one call at a time; give each worker thread its own model.
 */
export class RiskModel {
  /** Operating points from the model file (probabilities; low <= high). */
  readonly thresholds: Readonly<Thresholds>;
  /** The validated file the model was built from (digests, dev figures). */
  readonly file: Readonly<ModelFile>;
  private readonly extractor: FeatureExtractor;
  private readonly scale: number;
  private readonly bias: number;

  private constructor(file: ModelFile) {
    this.file = file;
    this.thresholds = Object.freeze({ ...file.thresholds });
    this.extractor = new FeatureExtractor(featureParams(file.features), {
      weights: decodeWeights(file.weights, file.features.buckets_log2),
      keepBuckets: false,
    });
    this.scale = file.weights.scale;
    this.bias = file.bias;
  }

  /** Reads and validates a model file; throws RiskModelError naming the file. */
  static load(file: string): RiskModel {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new RiskModelError(file, code === 'ENOENT' ? 'model file not found (train one with npm run safety:train)' : `cannot read (${code ?? String(err)})`);
    }
    let obj: unknown;
    try {
      obj = JSON.parse(text);
    } catch (err) {
      throw new RiskModelError(file, `not valid JSON (${(err as Error).message})`);
    }
    return RiskModel.fromJSON(obj, file);
  }

  /**
   * Validates a parsed model file and builds the model.
   * @param source names the object in errors (default "model object")
   */
  static fromJSON(obj: unknown, source = 'model object'): RiskModel {
    const parsed = ModelFileSchema.safeParse(obj);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : '(top level)'}: ${i.message}`);
      throw new RiskModelError(source, `invalid risk model file:\n  ${problems.join('\n  ')}`);
    }
    try {
      return new RiskModel(parsed.data);
    } catch (err) {
      throw new RiskModelError(source, `invalid risk model file: ${(err as Error).message}`);
    }
  }

  /**
   * Probability (0..1) that a message states a risk, from its normalised form
   * (`normalizeRiskText`). Allocates nothing.
   */
  score(normalized: string): number {
    const n = this.extractor.extract(normalized);
    // The extractor sums the int16 weights exactly; one multiply by the scale makes them real.
    const z = this.bias + (n > 0 ? (this.scale * this.extractor.dot) / Math.sqrt(n) : 0);
    return 1 / (1 + Math.exp(-z));
  }

  /** `score` of a raw message (normalises it first). */
  scoreText(text: string): number {
    return this.score(normalizeRiskText(text));
  }
}
