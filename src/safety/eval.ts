/**
 * Scoring the crisis check on a labelled file (`label<TAB>text`: E explicit, I indirect,
 * N must not trigger), for `npm run safety:eval` and the bench. A message counts as caught
 * when it gets the crisis response or the check-in (both carry the crisis lines); a false
 * alarm is an N message that gets either. Intervals are Wilson score intervals at 95%.
 */
import type { CrisisCheck } from './crisis-check.js';
import type { LabelledLine, RiskLabel } from './corpus.js';

export interface Rate {
  /** Messages that count for this rate. */
  n: number;
  /** Of them, those that hit (caught, or a false alarm for N). */
  k: number;
  rate: number;
  /** 95% Wilson interval. */
  low: number;
  high: number;
}

export interface EvalLine {
  line: number;
  label: RiskLabel;
  text: string;
  /** `risk` (crisis response), `possible` (check-in) or null. */
  tier: 'risk' | 'possible' | null;
  reasons: string[];
}

export interface EvalReport {
  file: string;
  /** Recall per risk label: caught by the crisis response or the check-in. */
  recall: Partial<Record<'E' | 'I', Rate>>;
  /** Recall per risk label by the crisis response alone. */
  riskTierRecall: Partial<Record<'E' | 'I', Rate>>;
  /** N messages that got the crisis response or the check-in. */
  falseAlarms: Rate | undefined;
  /** N messages that got the crisis response. */
  riskTierFalseAlarms: Rate | undefined;
  misses: EvalLine[];
  alarms: EvalLine[];
}

/** The 95% Wilson score interval of k hits in n. */
export function wilson(k: number, n: number, z = 1.96): Rate {
  if (n === 0) return { n, k, rate: 0, low: 0, high: 0 };
  const p = k / n;
  const d = 1 + (z * z) / n;
  const centre = (p + (z * z) / (2 * n)) / d;
  const half = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / d;
  return { n, k, rate: p, low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

export function evaluate(check: CrisisCheck, lines: readonly LabelledLine[], file: string): EvalReport {
  const scored: EvalLine[] = lines.map((l) => {
    const a = check.assess(l.text, [], { release: false });
    return { line: l.line, label: l.label, text: l.text, tier: a.risk ? 'risk' : a.possible ? 'possible' : null, reasons: a.reasons };
  });
  const rate = (of: EvalLine[], hit: (x: EvalLine) => boolean) => (of.length > 0 ? wilson(of.filter(hit).length, of.length) : undefined);
  const recall: EvalReport['recall'] = {};
  const riskTierRecall: EvalReport['riskTierRecall'] = {};
  for (const label of ['E', 'I'] as const) {
    const of = scored.filter((x) => x.label === label);
    const r = rate(of, (x) => x.tier !== null);
    const rr = rate(of, (x) => x.tier === 'risk');
    if (r) recall[label] = r;
    if (rr) riskTierRecall[label] = rr;
  }
  const negatives = scored.filter((x) => x.label === 'N');
  return {
    file,
    recall,
    riskTierRecall,
    falseAlarms: rate(negatives, (x) => x.tier !== null),
    riskTierFalseAlarms: rate(negatives, (x) => x.tier === 'risk'),
    misses: scored.filter((x) => x.label !== 'N' && x.tier === null),
    alarms: negatives.filter((x) => x.tier !== null),
  };
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/** One line for a rate: "97.3% (178/183, 95% CI 93.8-98.8%)". */
export function formatRate(r: Rate | undefined): string {
  if (!r) return 'n/a (no such lines)';
  return `${pct(r.rate)} (${r.k}/${r.n}, 95% CI ${pct(r.low)}-${pct(r.high)})`;
}
