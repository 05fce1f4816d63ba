/**
 * The crisis check every message passes before anything else, offline and in one pass:
 *
 *   normalise (disguise undone, chat forms canonical)
 *     -> risk grammar (frames over word classes, negation, subject and tail rules)
 *     -> trained model (a linear second opinion, for what no frame describes)
 *     -> context (cues of the session's last few messages, never their text)
 *
 * Two tiers come out. `risk`: the fixed crisis response and the safety state. `possible`:
 * a fixed check-in that asks directly, whose answer decides (see protocol.ts). The
 * release phrases (safe statements, denials) and the check-in answers are read here too,
 * so one call tells the protocol all it needs.
 */
import type { RiskGrammarConfig, RiskKind } from '../config/risk-grammar-schema.js';
import type { SafetyConfig } from '../config/schemas.js';
import { PhraseMatcher, type Match, type PatternSpec } from '../classifier/matcher.js';
import { riskTokens } from './normalize.js';
import { RiskGrammar } from './grammar/risk-grammar.js';

export type { RiskKind, RiskTier } from '../config/risk-grammar-schema.js';

/** The trained second opinion (see model/risk-model.ts): a probability and its two thresholds. */
export interface RiskScorer {
  score(normalized: string): number;
  readonly thresholds: { readonly high: number; readonly low: number };
}

/** How a message reads as an answer to the check-in question. */
export type CheckInAnswer = 'yes' | 'no' | 'unclear';

export interface SafetyAssessment {
  /** A risk statement (crisis outranks self-harm): the fixed crisis response. */
  risk: RiskKind | null;
  /** Possible risk (only when `risk` is null): the check-in. */
  possible: RiskKind | null;
  /** The person made an explicit, un-negated statement of safety ("I'm safe", "I won't hurt myself"). */
  safeStatement: boolean;
  /** The person brushed it off ("I'm fine, forget it"): never counts as safety. */
  denial: boolean;
  /** Read as an answer to "are you having thoughts of ending your life?". */
  answer: CheckInAnswer;
  /** Frame ids that context rules name (and `model`), kept for the next messages' context. Never text. */
  cues: string[];
  /** What decided: frame ids, `model`, context rule ids. Ids only, never text. */
  reasons: string[];
  /** The model's probability (0 without a model). */
  score: number;
}

export interface AssessOptions {
  /** Read the release phrases and the check-in answer (default true; see `withRelease`). */
  release?: boolean;
}

/** The assessment of nothing at all. */
export const NO_RISK: SafetyAssessment = { risk: null, possible: null, safeStatement: false, denial: false, answer: 'unclear', cues: [], reasons: [], score: 0 };

const SAFE = 0;
const SAFE_NEG = 1;
// Yes and no share a group, so the longer wins ("i am not" over "i am").
const ANSWER = 2;
const CLAUSE_BREAK = /[.!?;,\n]/;
/** Fewest words the model must see before its score counts. */
const MODEL_MIN_WORDS = 3;

export class CrisisCheck {
  private readonly grammar: RiskGrammar;
  private readonly release: PhraseMatcher;
  private readonly maxGap: number;
  private readonly contextRules: RiskGrammarConfig['context']['rules'];
  /** Frame ids (and `model`) some context rule names: the only cues worth keeping. */
  private readonly cueNames: Set<string>;
  /** Earlier messages whose cues count. */
  readonly contextWindow: number;

  constructor(
    safety: SafetyConfig,
    grammar: RiskGrammarConfig,
    private readonly model?: RiskScorer,
  ) {
    this.grammar = new RiskGrammar(grammar);
    this.contextRules = grammar.context.rules;
    this.contextWindow = grammar.context.window;
    this.cueNames = new Set(grammar.context.rules.flatMap((r) => r.all));
    const specs: PatternSpec[] = [];
    const add = (phrases: readonly string[], tag: string, group: number) => phrases.forEach((phrase) => specs.push({ phrase, tag, group }));
    add(safety.release.safe_statements, 'safe', SAFE);
    add(safety.release.denials, 'denial', SAFE);
    add(safety.release.negated_by, 'safe_neg', SAFE_NEG);
    add(safety.check_in.answers.yes, 'yes', ANSWER);
    add(safety.check_in.answers.no, 'no', ANSWER);
    this.maxGap = safety.release.max_gap_words;
    this.release = new PhraseMatcher(specs);
  }

  /** Whether a trained model takes part (the start-up banner says so). */
  get hasModel(): boolean {
    return this.model !== undefined;
  }

  /**
   * Assesses a message (a burst: its messages a line each). `recentCues` are the cues of the
   * session's last messages, oldest first: intent in one and means in the next count together.
   * `release: false` leaves the release phrases unread (see `withRelease`).
   */
  assess(text: string, recentCues: readonly (readonly string[])[] = [], opts: AssessOptions = {}): SafetyAssessment {
    const tokens = riskTokens(text);
    const g = this.grammar.analyse(tokens);
    const reasons = g.hits.map((h) => h.frame);
    let risk = g.hits.find((h) => h.tier === 'risk')?.kind ?? null;
    let possible = risk ? null : (g.hits.find((h) => h.tier === 'possible')?.kind ?? null);

    let score = 0;
    // A linear model knows least about the shortest messages ("one", "ok"): it speaks from three words on.
    if (this.model && countWords(tokens) >= MODEL_MIN_WORDS) {
      score = this.model.score(tokens.join(' '));
      const { high, low } = this.model.thresholds;
      // A frame that a scope rule cancelled ("I'd never...", "my friend says she...") is the grammar
      // reading what the model cannot: then the model alone gives a check-in at most, and only when sure.
      const cancelled = g.cancelled.length > 0;
      if (!risk && score >= high && !cancelled) {
        risk = 'crisis';
        possible = null;
        reasons.push('model');
      } else if (!risk && !possible && score >= (cancelled ? high : low)) {
        possible = 'crisis';
        reasons.push('model');
      }
    }
    const cues = g.fired.filter((f) => this.cueNames.has(f));
    if (reasons.includes('model') && possible) cues.push('model');
    const alone: SafetyAssessment = { ...NO_RISK, risk, possible, cues, reasons, score };
    const read = opts.release === false ? alone : this.withRelease(alone, text);
    return this.inContext(read, recentCues);
  }

  /**
   * The assessment with the release phrases and the check-in answer read. They matter only in
   * the safety state or while a check-in is open, so a turn reads them only then (the scan
   * costs about a quarter of the check).
   */
  withRelease(a: SafetyAssessment, text: string): SafetyAssessment {
    return { ...a, ...this.readRelease(text) };
  }

  /**
   * The assessment with the session's recent cues (oldest first) counted: a context rule
   * fires when all its frames fired in the window and this message brought at least one.
   */
  inContext(a: SafetyAssessment, recentCues: readonly (readonly string[])[]): SafetyAssessment {
    if (a.risk || a.cues.length === 0) return a;
    const seen = new Set([...recentCues.slice(-this.contextWindow).flat(), ...a.cues]);
    let possible = a.possible;
    const reasons = [...a.reasons];
    for (const rule of this.contextRules) {
      if (!rule.all.every((c) => seen.has(c)) || !rule.all.some((c) => a.cues.includes(c))) continue;
      reasons.push(rule.id);
      if (rule.tier === 'risk') return { ...a, risk: rule.kind, possible: null, reasons };
      possible ??= rule.kind;
    }
    return possible === a.possible ? a : { ...a, possible, reasons };
  }

  /** Safe statements, denials and check-in answers. */
  private readRelease(text: string): Pick<SafetyAssessment, 'safeStatement' | 'denial' | 'answer'> {
    const { matches } = this.release.scan(text);
    const safe = matches.filter((m) => m.tag === 'safe' && !this.cuedBefore(text, m, matches));
    // "I am safe" is a no, not a yes ("i am") and a no.
    const yes = matches.some((m) => m.tag === 'yes' && !safe.some((x) => x.start <= m.start && x.end >= m.end));
    const no = matches.some((m) => m.tag === 'no') || safe.length > 0;
    return {
      safeStatement: safe.length > 0,
      denial: matches.some((m) => m.tag === 'denial'),
      answer: yes ? (no ? 'unclear' : 'yes') : no ? 'no' : 'unclear',
    };
  }

  /** A negation cue in the same clause just before a safe statement ("I'm not safe"). */
  private cuedBefore(text: string, target: Match, matches: readonly Match[]): boolean {
    return matches.some((cue) => {
      if (cue.tag !== 'safe_neg' || cue.start >= target.start || cue.end > target.end) return false;
      const gap = cue.end < target.start ? text.slice(cue.end, target.start) : '';
      const allowed = /\s/.test(cue.phrase.trim()) ? this.maxGap : 0;
      return !CLAUSE_BREAK.test(gap) && wordCount(gap) <= allowed;
    });
  }
}

function countWords(tokens: readonly string[]): number {
  let n = 0;
  for (const t of tokens) if (t !== '.' && t !== ',') n++;
  return n;
}

function wordCount(s: string): number {
  return s.split(/\s+/).filter((w) => /[\p{L}\p{N}]/u.test(w)).length;
}
