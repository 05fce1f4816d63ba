/**
 * The risk model's file (data/safety/risk_model.json): its schema and the
 * weight encoding.
 *
 * Weights are sparse (only buckets seen in training are non-zero) and
 * quantised to int16 with one scale: the bucket list is delta-encoded as LEB128
 * varints, the values are little-endian int16, both base64. The 2,000-line
 * corpus gives some 46,000 weights and a 180 kB file, against 700 kB for a
 * dense int16 array at 2^18 buckets. Quantising costs at most scale/2 per
 * weight (1/65,534 of the largest), far below anything that moves a score
 * across a threshold, and the thresholds are chosen on the quantised model anyway.
 *
 * The file holds no timestamp and its keys are written in one fixed order, so
 * retraining on unchanged data writes identical bytes.
 */
import { z } from 'zod';
import { FEATURE_VERSION, type FeatureParams } from './features.js';

/** The `format` value of a model file. */
export const MODEL_FORMAT = 'trt-risk-model';
/** The `format_version` this code reads and writes. */
export const MODEL_FORMAT_VERSION = 1;
/** The `weights.encoding` this code reads and writes. */
export const WEIGHT_ENCODING = 'sparse-delta-varint+int16le';

const Probability = z.number().min(0).max(1);
const Count = z.number().int().nonnegative();

const FeaturesSchema = z.strictObject({
  version: z.literal(FEATURE_VERSION, { message: `feature version must be ${FEATURE_VERSION} (this code's hashing); retrain with npm run safety:train` }),
  buckets_log2: z.number().int().min(8).max(24),
  char_min: z.number().int().min(1).max(5),
  char_max: z.number().int().min(1).max(5),
  word_bigrams: z.boolean(),
});

const DigestSchema = z.strictObject({ lines: Count, risk: Count, sha256: z.string().regex(/^[0-9a-f]{64}$/, 'a lower-case hex sha256') });

// Rates are NaN when a class is missing; JSON writes NaN as null.
const Rate = z.number().min(0).max(1).nullable();
const RatesSchema = z.strictObject({ recall: Rate, recall_E: Rate, recall_I: Rate, fpr: Rate, flagged_risk: Count, flagged_n: Count });

/** Schema of a model file. */
export const ModelFileSchema = z
  .strictObject({
    format: z.literal(MODEL_FORMAT),
    format_version: z.literal(MODEL_FORMAT_VERSION),
    description: z.string(),
    features: FeaturesSchema,
    bias: z.number(),
    weights: z.strictObject({
      encoding: z.literal(WEIGHT_ENCODING),
      scale: z.number().positive(),
      count: Count,
      buckets: z.base64(),
      values: z.base64(),
    }),
    thresholds: z.strictObject({ high: Probability, low: Probability }).refine((t) => t.low <= t.high, { message: 'low must not exceed high' }),
    // background: the ordinary-conversation N lines trained on besides train (null if none).
    trained_on: z.strictObject({
      train: DigestSchema,
      dev: DigestSchema,
      background: DigestSchema.nullable(),
      features: FeaturesSchema,
      /** sha256 of the risk grammar whose dev flags shared the `low` threshold's false-alarm budget (null: none did). */
      grammar: z.string().regex(/^[0-9a-f]{64}$/, 'a lower-case hex sha256').nullable(),
    }),
    training: z.strictObject({
      l2: z.number().nonnegative(),
      class_balanced: z.boolean(),
      max_iterations: Count,
      iterations: Count,
      converged: z.boolean(),
      max_fpr_high: Probability,
      max_fpr_low: Probability,
    }),
    dev_metrics: z.strictObject({ lines: Count, risk: Count, auc: Rate, high: RatesSchema, low: RatesSchema }),
  })
  .refine((f) => f.features.char_min <= f.features.char_max, { message: 'features.char_min must not exceed char_max', path: ['features'] })
  .refine((f) => JSON.stringify(f.features) === JSON.stringify(f.trained_on.features), {
    message: 'trained_on.features must equal features',
    path: ['trained_on', 'features'],
  });

/** A parsed model file. */
export type ModelFile = z.infer<typeof ModelFileSchema>;
/** A model file's feature record. */
export type FeaturesRecord = ModelFile['features'];
/** A model file's record of one flagging rule's dev figures. */
export type RatesRecord = ModelFile['dev_metrics']['high'];

/** Feature parameters as the file spells them (snake_case, fixed key order). */
export function featuresRecord(p: Readonly<FeatureParams>): FeaturesRecord {
  return { version: p.version as typeof FEATURE_VERSION, buckets_log2: p.bucketsLog2, char_min: p.charMin, char_max: p.charMax, word_bigrams: p.wordBigrams };
}

/** Feature parameters from the file's record. */
export function featureParams(r: FeaturesRecord): FeatureParams {
  return { version: r.version, bucketsLog2: r.buckets_log2, charMin: r.char_min, charMax: r.char_max, wordBigrams: r.word_bigrams };
}

/** Quantises sparse weights (ascending buckets) into the file's encoding; zero after rounding is dropped. */
export function encodeWeights(buckets: Uint32Array, weights: Float64Array): ModelFile['weights'] {
  let maxAbs = 0;
  for (const w of weights) maxAbs = Math.max(maxAbs, Math.abs(w));
  const scale = maxAbs > 0 ? maxAbs / 32767 : 1;
  const varints: number[] = [];
  const values: number[] = [];
  let prev = -1;
  for (let k = 0; k < buckets.length; k++) {
    const q = Math.round(weights[k]! / scale);
    if (q === 0) continue;
    const b = buckets[k]!;
    if (b <= prev) throw new Error('buckets must be ascending');
    let delta = b - prev - 1;
    prev = b;
    while (delta >= 0x80) {
      varints.push((delta & 0x7f) | 0x80);
      delta >>>= 7;
    }
    varints.push(delta);
    values.push(q);
  }
  const valueBytes = Buffer.alloc(values.length * 2);
  values.forEach((q, k) => valueBytes.writeInt16LE(q, k * 2));
  return {
    encoding: WEIGHT_ENCODING,
    scale,
    count: values.length,
    buckets: Buffer.from(varints).toString('base64'),
    values: valueBytes.toString('base64'),
  };
}

/**
 * Decodes the file's weights into a dense array of 2^bucketsLog2 quantised
 * weights (multiply by `scale`); throws on an inconsistent encoding.
 */
export function decodeWeights(w: ModelFile['weights'], bucketsLog2: number): Int16Array {
  const size = 1 << bucketsLog2;
  const dense = new Int16Array(size);
  const varints = Buffer.from(w.buckets, 'base64');
  const values = Buffer.from(w.values, 'base64');
  if (values.length !== w.count * 2) throw new Error(`weights.values holds ${values.length / 2} values, count says ${w.count}`);
  let pos = 0;
  let prev = -1;
  for (let k = 0; k < w.count; k++) {
    let delta = 0;
    let shift = 0;
    for (;;) {
      if (pos >= varints.length) throw new Error(`weights.buckets ends after ${k} of ${w.count} buckets`);
      const byte = varints[pos++]!;
      delta += (byte & 0x7f) * 2 ** shift;
      shift += 7;
      if (byte < 0x80) break;
      if (shift > 28) throw new Error('weights.buckets has an over-long varint');
    }
    const b = prev + 1 + delta;
    if (b >= size) throw new Error(`weights.buckets: bucket ${b} is outside 2^${bucketsLog2}`);
    dense[b] = values.readInt16LE(k * 2);
    prev = b;
  }
  if (pos !== varints.length) throw new Error(`weights.buckets has ${varints.length - pos} bytes after the last of ${w.count} buckets`);
  return dense;
}
