/**
 * The crisis check every message passes before anything else. Its phrases
 * live in safety_protocol.json and are compiled into their own matcher (one
 * scan per message), so the check never depends on the more often edited
 * classification file.
 *
 * A risk is found by (a) a risk phrase, unless it sits inside a longer
 * non-risk phrase ("suicide prevention"), inside a safe statement that is not
 * itself negated ("I won't hurt myself", but not "I can't promise I won't hurt
 * myself"), or right after a negation cue ("not suicidal"); or (b) a
 * combination: one phrase from every group of a rule (e.g. pills + "how many").
 */
import type { SafetyConfig } from '../config/schemas.js';
import { PhraseMatcher, type Match, type PatternSpec } from '../classifier/matcher.js';

export type RiskKind = 'crisis' | 'self_harm';

export interface SafetyAssessment {
  /** The kind of risk statement found, if any (crisis outranks self-harm). */
  risk: RiskKind | null;
  /** The person made an explicit, un-negated statement of safety ("I'm safe", "I won't hurt myself"). */
  safeStatement: boolean;
  /** The person brushed it off ("I'm fine, forget it"): never counts as safety. */
  denial: boolean;
}

const RISK = 0; // risk and non-risk phrases: a longer one suppresses those it contains
const SAFE = 1; // safe statements and denials: never suppress a risk phrase by themselves
const NEG_BEFORE = 2;
const NEG_AFTER = 3;
const SAFE_NEG = 4;
const COMBO_BASE = 5; // one group per combination part, so parts never suppress each other

const CLAUSE_BREAK = /[.!?;,\n]/;
const SENTENCE_BREAK = /[.!?;\n]/;

export class CrisisCheck {
  private readonly matcher: PhraseMatcher;
  private readonly combos: Array<{ kind: RiskKind; parts: number }>;
  private readonly maxGap: number;

  constructor(config: SafetyConfig) {
    const specs: PatternSpec[] = [];
    const add = (phrases: readonly string[], tag: string, group: number) =>
      phrases.forEach((phrase) => specs.push({ phrase, tag, group }));
    add(config.patterns.crisis, 'crisis', RISK);
    add(config.patterns.self_harm, 'self_harm', RISK);
    add(config.not_crisis.phrases, 'not_crisis', RISK);
    add(config.release.safe_statements, 'safe', SAFE);
    add(config.release.denials, 'denial', SAFE);
    add(config.release.negated_by, 'safe_neg', SAFE_NEG);
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
    const { assessment, matches } = this.evaluate(text);
    // An excusing phrase ("want to die laughing") never reaches across a sentence break:
    // "I want to die. Laughing at it is all I have left" is a risk statement. Then each
    // sentence is assessed alone as well (combinations across sentences were counted above).
    if (assessment.risk || !matches.some((m) => m.tag === 'not_crisis' && SENTENCE_BREAK.test(text.slice(m.start, m.end)))) return assessment;
    const risks = text.split(SENTENCE_BREAK).map((sentence) => this.evaluate(sentence).assessment.risk);
    return { ...assessment, risk: risks.includes('crisis') ? 'crisis' : risks.includes('self_harm') ? 'self_harm' : null };
  }

  private evaluate(text: string): { assessment: SafetyAssessment; matches: Match[] } {
    const { matches } = this.matcher.scan(text);
    // Safe statements that stand: no negation cue right before them.
    const safe = matches.filter((m) => m.tag === 'safe' && !this.cuedBefore(text, m, matches, 'safe_neg', this.maxGap));
    let crisis = false;
    let selfHarm = false;
    for (const m of matches) {
      if (m.tag !== 'crisis' && m.tag !== 'self_harm') continue;
      if (this.negated(text, m, matches)) continue;
      if (safe.some((s) => s.start <= m.start && s.end >= m.end)) continue; // "I won't hurt myself"
      if (m.tag === 'crisis') crisis = true;
      else selfHarm = true;
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
    const assessment: SafetyAssessment = {
      risk: crisis ? 'crisis' : selfHarm ? 'self_harm' : null,
      safeStatement: safe.length > 0,
      denial: matches.some((m) => m.tag === 'denial'),
    };
    return { assessment, matches };
  }

  /** A risk phrase right after a negation cue, or followed closely by an "after" cue, in the same clause. */
  private negated(text: string, risk: Match, matches: readonly Match[]): boolean {
    if (this.cuedBefore(text, risk, matches, 'neg_before', this.maxGap)) return true;
    return matches.some((cue) => {
      if (cue.tag !== 'neg_after' || cue.start < risk.end) return false;
      const gap = text.slice(risk.end, cue.start);
      return !CLAUSE_BREAK.test(gap) && wordCount(gap) <= this.maxGap;
    });
  }

  /**
   * A cue of `tag` in the same clause just before `target` (it may overlap the
   * target's start, as "no thoughts of" does "thoughts of ending"). One-word
   * cues must touch the target; longer cues may be up to `maxGap` words away.
   */
  private cuedBefore(text: string, target: Match, matches: readonly Match[], tag: string, maxGap: number): boolean {
    return matches.some((cue) => {
      if (cue.tag !== tag || cue.start >= target.start || cue.end > target.end) return false;
      const gap = cue.end < target.start ? text.slice(cue.end, target.start) : '';
      const allowed = /\s/.test(cue.phrase.trim()) ? maxGap : 0;
      return !CLAUSE_BREAK.test(gap) && wordCount(gap) <= allowed;
    });
  }
}

function wordCount(s: string): number {
  return s.split(/\s+/).filter((w) => /[\p{L}\p{N}]/u.test(w)).length;
}
