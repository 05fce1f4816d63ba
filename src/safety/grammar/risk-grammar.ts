/**
 * The risk grammar: frames over word classes, matched on a message's canonical tokens.
 *
 * One pass finds every class phrase in the message (a token trie walked from each
 * position). A frame is tried only when every class it requires was found, so an ordinary
 * message costs the pass and a few bit tests. Each frame match then goes through the scope
 * rules, in this order:
 *   - negation: a cue just before it in the same clause ("I'd never...", "I don't want to
 *     die"), inside it but outside its elements ("I would never kill myself"), or just
 *     after it ("...has never crossed my mind") cancels it;
 *   - subject: when the nearest subject before it in the clause is someone or something
 *     else ("she wants to die", "this meeting is killing me"), it is not the person's;
 *   - tails: words right after it ("...die of embarrassment", "...die laughing") void it,
 *     or soften a risk to a check-in ("I'd rather die than...").
 * What is left decides the tier: any risk frame, else any possible frame.
 */
import type { RiskGrammarConfig, RiskKind, RiskTier } from '../../config/risk-grammar-schema.js';
import { CLAUSE as CLAUSE_TOKEN, SENTENCE as SENTENCE_TOKEN } from '../normalize.js';
import { buildTrie, TokenFolder, type TrieNode } from './lexicon.js';
import { parsePattern, type PatternElement } from './pattern.js';

interface Span {
  start: number;
  end: number;
  cls: number;
}

type Element = { type: 'class'; ids: number[]; optional: boolean } | { type: 'gap'; max: number; crossSentence: boolean } | { type: 'end' };

type FrameTier = RiskTier | 'cue';

interface Frame {
  id: string;
  tier: FrameTier;
  kind: RiskKind;
  negatable: boolean;
  selfOnly: boolean;
  tails: boolean;
  elements: Element[];
  /** Class ids every match needs (each required element's alternatives, as sets). */
  required: number[][];
}

/** A frame that matched and survived the scope rules. */
export interface FrameHit {
  frame: string;
  /** Risk or possible risk (cue frames are only in `fired`). */
  tier: RiskTier;
  kind: RiskKind;
}

export interface GrammarResult {
  /** Frames that fired, strongest first. */
  hits: FrameHit[];
  /** Frames that matched but a scope rule cancelled (negation, another subject, a tail). */
  cancelled: string[];
  /** Frames of any tier (cue frames included) that fired, for the context rules. */
  fired: string[];
}

const MAX_SPANS = 4096;
// Module-local copies: read per token, and an imported binding costs a getter call under tsx.
const SENTENCE: string = SENTENCE_TOKEN;
const CLAUSE: string = CLAUSE_TOKEN;

export class RiskGrammar {
  private readonly root: TrieNode;
  private readonly folder: TokenFolder;
  private readonly classIds = new Map<string, number>();
  private readonly frames: Frame[];
  private readonly neg: number;
  private readonly negAfter: number;
  private readonly selfSubj: number;
  private readonly otherSubj: number;
  private readonly clauseWord: number;
  private readonly mask: number;
  private readonly soften: number | undefined;
  private readonly tails: Array<{ cls: number; within: number; effect: 'void' | 'possible'; frames: Set<string> | null }>;
  private readonly scope: RiskGrammarConfig['scope'];

  constructor(config: RiskGrammarConfig) {
    const classes: Array<{ id: number; phrases: string[] }> = [];
    const idOf = (name: string, phrases?: string[]) => {
      let id = this.classIds.get(name);
      if (id === undefined) {
        id = this.classIds.size;
        this.classIds.set(name, id);
        classes.push({ id, phrases: phrases ?? [] });
      }
      return id;
    };
    for (const [name, c] of Object.entries(config.classes)) idOf(name, c.phrases);
    // A lower-case word in a pattern is a class of its own, holding that word.
    const literal = (w: string) => idOf(`=${w}`, [w]);
    this.frames = config.frames.map((f) => {
      const elements = parsePattern(f.pattern).map((el: PatternElement): Element => {
        if (el.type !== 'class') return el;
        return { type: 'class', ids: [...el.classes.map((c) => this.classIds.get(c)!), ...el.words.map(literal)], optional: el.optional };
      });
      const required = elements.flatMap((el) => (el.type === 'class' && !el.optional ? [el.ids] : []));
      return { id: f.id, tier: f.tier, kind: f.kind, negatable: f.negatable, selfOnly: f.self_only, tails: f.tails, elements, required };
    });
    const { root, vocab } = buildTrie(classes);
    this.root = root;
    this.folder = new TokenFolder(vocab);
    const s = config.scope;
    this.scope = s;
    this.neg = this.classIds.get(s.negation)!;
    this.negAfter = this.classIds.get(s.negation_after)!;
    this.selfSubj = this.classIds.get(s.self_subject)!;
    this.otherSubj = this.classIds.get(s.other_subject)!;
    this.clauseWord = this.classIds.get(s.clause_words)!;
    this.mask = this.classIds.get(s.mask)!;
    this.soften = s.soften ? this.classIds.get(s.soften) : undefined;
    this.tails = config.tails.map((t) => ({ cls: this.classIds.get(t.class)!, within: t.within, effect: t.effect, frames: t.frames ? new Set(t.frames) : null }));
  }

  /** Assesses a message given as canonical tokens (see `riskTokens`). */
  analyse(rawTokens: readonly string[]): GrammarResult {
    const tokens = rawTokens.map((t) => (t === SENTENCE || t === CLAUSE ? t : this.folder.fold(t)));
    const { spans, byClass, startsAt } = this.findSpans(tokens);
    // Positions a frame gap may not skip: sentence breaks (unless `~~`) and clause words.
    const wall = new Uint8Array(tokens.length + 1);
    for (const w of byClass[this.clauseWord] ?? []) wall[w.start] = 1;
    const hits: FrameHit[] = [];
    const cancelled: string[] = [];
    const fired: string[] = [];
    for (const frame of this.frames) {
      if (!hasAll(frame.required, byClass)) continue;
      const first = frame.elements[0] as Extract<Element, { type: 'class' }>;
      let best: FrameTier | null = null;
      let sawMatch = false;
      for (const id of first.ids) {
        for (const s of byClass[id] ?? []) {
          const m = this.extend(frame.elements, 1, s.end, 0, false, [s], tokens, startsAt, wall);
          if (!m) continue;
          sawMatch = true;
          const tier = this.scoped(frame, s.start, m.end, m.covered, tokens, byClass);
          if (tier !== null && (best === null || tierRank(tier) > tierRank(best))) best = tier;
          if (best === 'risk') break;
        }
        if (best === 'risk') break;
      }
      if (best) {
        fired.push(frame.id);
        if (best !== 'cue') hits.push({ frame: frame.id, tier: best, kind: frame.kind });
      } else if (sawMatch) cancelled.push(frame.id);
    }
    // A joke marker anywhere ("i want to die lol") asks instead of assuming: a check-in.
    if (this.soften !== undefined && byClass[this.soften]) for (const h of hits) h.tier = 'possible';
    hits.sort((a, b) => rank(b) - rank(a));
    return { hits, cancelled, fired };
  }

  /** Every class phrase in the message: spans by class and by start position. */
  private findSpans(tokens: readonly string[]) {
    const spans: Span[] = [];
    const byClass: Array<Span[] | undefined> = [];
    const startsAt: Array<Span[] | undefined> = [];
    const root = this.root.next;
    for (let i = 0; i < tokens.length && spans.length < MAX_SPANS; i++) {
      let node: TrieNode | undefined = root.get(tokens[i]!);
      for (let j = i; node !== undefined; ) {
        for (const cls of node.classes) {
          const span = { start: i, end: j + 1, cls };
          spans.push(span);
          (byClass[cls] ??= []).push(span);
          (startsAt[i] ??= []).push(span);
        }
        if (node.next.size === 0 || ++j >= tokens.length) break;
        node = node.next.get(tokens[j]!);
      }
    }
    return { spans, byClass, startsAt };
  }

  /** Matches elements[ei..] from token `pos`, allowing `gap` skipped tokens before the next element. */
  private extend(
    elements: readonly Element[],
    ei: number,
    pos: number,
    gap: number,
    cross: boolean,
    covered: Span[],
    tokens: readonly string[],
    startsAt: Array<Span[] | undefined>,
    wall: Uint8Array,
  ): { end: number; covered: Span[] } | null {
    if (ei === elements.length) return { end: pos, covered };
    const el = elements[ei]!;
    if (el.type === 'gap') return this.extend(elements, ei + 1, pos, el.max, el.crossSentence, covered, tokens, startsAt, wall);
    if (el.type === 'end') {
      // The clause ends here or within the gap before `$`.
      for (let p = pos; p <= pos + gap && p <= tokens.length; p++) {
        const t = tokens[p];
        if (t === undefined || t === SENTENCE || t === CLAUSE || wall[p] === 1) return this.extend(elements, ei + 1, p, 0, false, covered, tokens, startsAt, wall);
      }
      return null;
    }
    for (let p = pos; p <= pos + gap && p <= tokens.length; p++) {
      // Skipping token p-1: a short gap (~N) stops at a clause word or a sentence break; a wide one (~~N) crosses both.
      if (p > pos && !cross && (wall[p - 1] === 1 || tokens[p - 1] === SENTENCE)) break;
      for (const s of startsAt[p] ?? []) {
        if (!el.ids.includes(s.cls)) continue;
        const r = this.extend(elements, ei + 1, s.end, 0, false, [...covered, s], tokens, startsAt, wall);
        if (r) return r;
      }
    }
    return el.optional ? this.extend(elements, ei + 1, pos, gap, cross, covered, tokens, startsAt, wall) : null;
  }

  /** The tier a match keeps after the scope rules, or null when they cancel it. */
  private scoped(frame: Frame, start: number, end: number, covered: readonly Span[], tokens: readonly string[], byClass: Array<Span[] | undefined>): FrameTier | null {
    const s = this.scope;
    const overlaps = (x: Span, list: readonly Span[]) => list.some((c) => x.start < c.end && x.end > c.start);
    // An idiom or a topic ("die laughing", "suicide prevention") over any part of the match.
    // (A mask that runs into a clause word is no idiom: "kill myself to" in "...kill myself to be honest".)
    const clauseWords = byClass[this.clauseWord] ?? [];
    if ((byClass[this.mask] ?? []).some((m) => overlaps(m, covered) && !overlaps(m, clauseWords))) return null;
    if (frame.negatable) {
      for (const n of byClass[this.neg] ?? []) {
        // Part of the frame itself ("no one would miss me"), or of a clause word ("not going to lie").
        if (overlaps(n, covered) || overlaps(n, clauseWords)) continue;
        const before = n.start < start && n.end >= start - s.negation_window && this.noBreak(n.end, start, tokens, byClass);
        const inside = n.start >= start && n.end <= end;
        if (before || inside) return null;
      }
      for (const n of byClass[this.negAfter] ?? []) {
        if (n.start >= end && n.start - end <= s.negation_after_window && !tokens.slice(end, n.start).includes(SENTENCE)) return null;
      }
    }
    if (frame.selfOnly && this.subjectBefore(start, tokens, byClass) === 'other') return null;
    let tier = frame.tier;
    if (frame.tails) {
      for (const t of this.tails) {
        if (t.frames && !t.frames.has(frame.id)) continue;
        const found = (byClass[t.cls] ?? []).some((x) => x.start >= end && x.start - end <= t.within);
        if (!found) continue;
        if (t.effect === 'void') return null;
        if (tier === 'risk') tier = 'possible';
      }
    }
    return tier;
  }

  /** No clause break (punctuation or a word such as "but") between token positions a and b. */
  private noBreak(a: number, b: number, tokens: readonly string[], byClass: Array<Span[] | undefined>): boolean {
    for (let i = a; i < b; i++) if (tokens[i] === SENTENCE || tokens[i] === CLAUSE) return false;
    return !(byClass[this.clauseWord] ?? []).some((w) => w.start >= a && w.start < b);
  }

  /** Whose statement it is: the nearest subject phrase ending before `start` in the same clause. */
  private subjectBefore(start: number, tokens: readonly string[], byClass: Array<Span[] | undefined>): 'self' | 'other' | null {
    const from = Math.max(0, start - this.scope.subject_window);
    let best: { end: number; len: number; who: 'self' | 'other' } | null = null;
    for (const [cls, who] of [[this.selfSubj, 'self'], [this.otherSubj, 'other']] as const) {
      for (const x of byClass[cls] ?? []) {
        if (x.end > start || x.end < from || !this.noBreak(x.end, start, tokens, byClass)) continue;
        const len = x.end - x.start;
        if (!best || x.end > best.end || (x.end === best.end && len > best.len)) best = { end: x.end, len, who };
      }
    }
    return best?.who ?? null;
  }
}

/** Every required element has a phrase of one of its classes in the message (a plain loop: it runs for every frame). */
function hasAll(required: readonly (readonly number[])[], byClass: ReadonlyArray<Span[] | undefined>): boolean {
  outer: for (const ids of required) {
    for (const id of ids) if (byClass[id] !== undefined) continue outer;
    return false;
  }
  return true;
}

function tierRank(t: FrameTier): number {
  return t === 'risk' ? 3 : t === 'possible' ? 2 : 1;
}

function rank(h: FrameHit): number {
  return (h.tier === 'risk' ? 2 : 0) + (h.kind === 'crisis' ? 1 : 0);
}
