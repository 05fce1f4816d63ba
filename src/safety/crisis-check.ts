/**
 * The crisis check every message passes before anything else. Its phrases
 * live in safety_protocol.json and are compiled into their own matcher (one
 * scan per message), so the check never depends on the more often edited
 * classification file.
 *
 * A risk is found by (a) a risk phrase, unless it sits inside a longer
 * non-risk or safe phrase, or right next to a negation cue; or (b) a
 * combination: one phrase from every group of a rule (e.g. pills + "how many").
 */
import type { SafetyConfig } from '../config/schemas.js';
import { PhraseMatcher, type Match, type PatternSpec } from '../classifier/matcher.js';

export type RiskKind = 'crisis' | 'self_harm';

export interface SafetyAssessment {
  /** The kind of risk statement found, if any (crisis outranks self-harm). */
  risk: RiskKind | null;
  /** The person made an explicit statement of safety ("I'm safe", "I won't hurt myself"). */
  safeStatement: boolean;
  /** The person brushed it off ("I'm fine, forget it"): never counts as safety. */
  denial: boolean;
}

const MAIN = 0; // risk, not-crisis, safe and denial phrases: longer suppresses contained
const NEG_BEFORE = 1;
const NEG_AFTER = 2;
const COMBO_BASE = 3; // one group per combination part, so parts never suppress each other

const CLAUSE_BREAK = /[.!?;,\n]/;

export class CrisisCheck {
  private readonly matcher: PhraseMatcher;
  private readonly combos: Array<{ kind: RiskKind; parts: number }>;
  private readonly maxGap: number;

  constructor(config: SafetyConfig) {
    const specs: PatternSpec[] = [];
    const add = (phrases: readonly string[], tag: string, group: number) =>
      phrases.forEach((phrase) => specs.push({ phrase, tag, group }));
    add(config.patterns.crisis, 'crisis', MAIN);
    add(config.patterns.self_harm, 'self_harm', MAIN);
    add(config.not_crisis.phrases, 'not_crisis', MAIN);
    add(config.release.safe_statements, 'safe', MAIN);
    add(config.release.denials, 'denial', MAIN);
    add(config.negation.before, 'neg_before', NEG_BEFORE);
    add(config.negation.after, 'neg_after', NEG_AFTER);
    let group = COMBO_BASE;
    this.combos = config.combinations.map((rule, r) => {
      rule.all.forEach((phrases, p) => add(phrases, `combo:${r}:${p}`, group++));
      return { kind: rule.kind, parts: rule.all.length };
    });
    this.maxGap = config.negation.max_gap_words;
    this.matcher = new PhraseMatcher(specs);
  }

  assess(text: string): SafetyAssessment {
    const { matches } = this.matcher.scan(text);
    let crisis = false;
    let selfHarm = false;
    let safeStatement = false;
    let denial = false;
    for (const m of matches) {
      if (m.tag === 'crisis' || m.tag === 'self_harm') {
        if (this.negated(text, m, matches)) continue;
        if (m.tag === 'crisis') crisis = true;
        else selfHarm = true;
      } else if (m.tag === 'safe') safeStatement = true;
      else if (m.tag === 'denial') denial = true;
    }
    if (!crisis) {
      for (const [r, rule] of this.combos.entries()) {
        if (rule.kind === 'self_harm' && selfHarm) continue;
        let all = true;
        for (let p = 0; p < rule.parts && all; p++) all = matches.some((m) => m.tag === `combo:${r}:${p}`);
        if (!all) continue;
        if (rule.kind === 'crisis') crisis = true;
        else selfHarm = true;
      }
    }
    return { risk: crisis ? 'crisis' : selfHarm ? 'self_harm' : null, safeStatement, denial };
  }

  /** A negation cue in the same clause, right before (or, for "after" cues, right after) the risk phrase. */
  private negated(text: string, risk: Match, matches: readonly Match[]): boolean {
    return matches.some((cue) => {
      // A cue may overlap the phrase's start ("no thoughts of" + "thoughts of ending").
      if (cue.tag === 'neg_before' && cue.start < risk.start && cue.end <= risk.end) {
        const gap = cue.end < risk.start ? text.slice(cue.end, risk.start) : '';
        const allowed = /\s/.test(cue.phrase.trim()) ? this.maxGap : 0; // one-word cues must touch the phrase
        return !CLAUSE_BREAK.test(gap) && wordCount(gap) <= allowed;
      }
      if (cue.tag === 'neg_after' && cue.start >= risk.end) {
        const gap = text.slice(risk.end, cue.start);
        return !CLAUSE_BREAK.test(gap) && wordCount(gap) <= this.maxGap;
      }
      return false;
    });
  }
}

function wordCount(s: string): number {
  return s.split(/\s+/).filter((w) => /[\p{L}\p{N}]/u.test(w)).length;
}
