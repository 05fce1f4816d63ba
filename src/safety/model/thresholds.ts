/**
 * Choosing the risk model's two operating points on the dev split, and the
 * figures recorded for them. A message is flagged at threshold t when its score
 * is >= t. Both points are set by a cap on false alarms (N lines flagged), not
 * by a target recall: the cap is what the people using the bot feel, and the
 * recall that fits under it is what the dev figures then report.
 */

/** Options of chooseThresholds. */
export interface ThresholdOptions {
  /** Largest share of N items the model alone may flag at `high` (default 0.005). */
  maxFprHigh: number;
  /** Largest share of N items flagged at `low`, counting those `alreadyFlagged` marks (default 0.015). */
  maxFprLow: number;
  /** Items another detector (the risk grammar) already flags; their false alarms use up the `low` budget first. */
  alreadyFlagged?: readonly boolean[];
}

/** Defaults of ThresholdOptions. */
export const THRESHOLD_DEFAULTS: Readonly<ThresholdOptions> = Object.freeze({ maxFprHigh: 0.005, maxFprLow: 0.03 });

/** The two operating points; low <= high. */
export interface Thresholds {
  high: number;
  low: number;
}

/**
 * Picks `high` and `low` (see ThresholdOptions). Each is the lowest threshold
 * whose false-positive rate on the N items stays within its cap. "Lowest" as the
 * items can tell: every threshold in the gap between the highest N score that
 * must stay unflagged and the next score above it flags the same items, so the
 * middle of that gap is returned, leaving the same margin either side. If the
 * cap allows every N item, the threshold is 0. If the other detector alone
 * already exceeds the `low` cap, no threshold meets it and `low` is `high`;
 * `low` is never above `high`.
 */
export function chooseThresholds(scores: readonly number[], isRisk: readonly boolean[], opts: ThresholdOptions = THRESHOLD_DEFAULTS): Thresholds {
  if (scores.length !== isRisk.length) throw new Error(`scores (${scores.length}) and labels (${isRisk.length}) differ in length`);
  if (opts.alreadyFlagged && opts.alreadyFlagged.length !== scores.length)
    throw new Error(`alreadyFlagged (${opts.alreadyFlagged.length}) and scores (${scores.length}) differ in length`);
  for (const [name, cap] of [['maxFprHigh', opts.maxFprHigh], ['maxFprLow', opts.maxFprLow]] as const)
    if (!(cap >= 0 && cap <= 1)) throw new Error(`${name} must be in [0, 1], got ${cap}`);
  const negatives: number[] = [];
  const fresh: number[] = []; // N items the other detector does not flag
  let alreadyNegatives = 0;
  for (let i = 0; i < scores.length; i++) {
    if (isRisk[i]) continue;
    negatives.push(scores[i]!);
    if (opts.alreadyFlagged?.[i]) alreadyNegatives++;
    else fresh.push(scores[i]!);
  }
  if (negatives.length === 0) throw new Error('no N items to measure false positives on');
  const distinct = [...new Set(scores)].sort((a, b) => a - b);
  // The small epsilon keeps 0.005 * 200 = 1 from becoming 0.9999999.
  const allowed = (cap: number) => Math.floor(cap * negatives.length + 1e-9);

  const high = lowestWithin(negatives, allowed(opts.maxFprHigh), distinct);
  const lowBudget = allowed(opts.maxFprLow) - alreadyNegatives;
  const low = lowBudget < 0 ? high : Math.min(high, lowestWithin(fresh, lowBudget, distinct));
  return { high, low };
}

/** Lowest threshold that flags at most `allowed` of `negatives` (see chooseThresholds). */
function lowestWithin(negatives: readonly number[], allowed: number, distinct: readonly number[]): number {
  if (allowed >= negatives.length) return 0;
  const desc = [...negatives].sort((a, b) => b - a);
  const keep = desc[allowed]!; // the highest score that must stay unflagged
  const above = distinct.find((v) => v > keep);
  if (above === undefined) return keep >= 1 ? 1 : (keep + 1) / 2;
  return keep + (above - keep) / 2;
}

/** Recall and false-positive rate of one flagging rule on labelled items. */
export interface Rates {
  /** Share of risk items flagged. */
  recall: number;
  /** Share of N items flagged. */
  fpr: number;
  /** Risk items flagged. */
  flaggedRisk: number;
  /** N items flagged. */
  flaggedN: number;
}

/** Rates of `flagged` against `isRisk` (NaN recall or fpr when a class is empty). */
export function rates(flagged: readonly boolean[], isRisk: readonly boolean[]): Rates {
  let risk = 0;
  let n = 0;
  let flaggedRisk = 0;
  let flaggedN = 0;
  for (let i = 0; i < flagged.length; i++) {
    if (isRisk[i]) {
      risk++;
      if (flagged[i]) flaggedRisk++;
    } else {
      n++;
      if (flagged[i]) flaggedN++;
    }
  }
  return { recall: flaggedRisk / risk, fpr: flaggedN / n, flaggedRisk, flaggedN };
}

/** Area under the ROC curve (Mann-Whitney; tied scores count a half). */
export function auc(scores: readonly number[], isRisk: readonly boolean[]): number {
  const order = scores.map((s, i) => [s, i] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let positives = 0;
  let rankSum = 0;
  for (let k = 0; k < order.length; ) {
    let end = k;
    while (end + 1 < order.length && order[end + 1]![0] === order[k]![0]) end++;
    const midRank = (k + end) / 2 + 1; // 1-based average rank of the tie group
    for (let t = k; t <= end; t++) {
      if (isRisk[order[t]![1]]) {
        positives++;
        rankSum += midRank;
      }
    }
    k = end + 1;
  }
  const negatives = order.length - positives;
  if (positives === 0 || negatives === 0) return NaN;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}
