/**
 * The navigator: a pure function from (where the conversation is, what this
 * message was classified as) to a decision. No I/O, no clock, no randomness:
 * the same input always gives the same decision, so scripted conversations
 * can pin every step.
 *
 * Order within a turn (documented in docs/architecture.md):
 *   1. Criteria: the first unmet criterion of the substate is met when one of
 *      its `met_by` labels matched (and its `requires_slot` is known); then the
 *      next one may be met by a different label of the same message.
 *   1b. Facts out of turn (facts.ts): a criterion's `ahead_by` labels establish it
 *      from any message, of this substate or a later one (counted when its substate
 *      comes, and acknowledged instead of asked); restated, they replace its slot.
 *   2. Interrupts, in `interrupt_priority` order, unless capped for this substate.
 *      They win the reply; criteria met in step 1 still count.
 *   3. If nothing was met: the first trigger (in file order) whose label matched;
 *      else a soft answer ("maybe") gets the criterion's `soft` move; else, when the
 *      criterion being asked accepts any answer, it is met; else it is asked again
 *      (its `again` wording when it was just asked). Each of these counts an attempt.
 *   4. All criteria met -> the next substate's entry action. Attempts reaching
 *      `max_attempts` -> move on to the next substate the same way. Entering a
 *      substate counts the facts already given for it; one whose facts are all
 *      known is passed through.
 *   5. An explanation never follows an explanation (`explanations`): the asked
 *      criterion's `again` stands in.
 */
import type { NavigationConfig, Substate, Trigger } from '../config/schemas.js';
import { captureAnswer, isCleanSlot, questionParts, slotFromQuote } from '../classifier/slots.js';
import type { Classification } from '../classifier/classifier.js';
import type { ClassificationConfig } from '../config/schemas.js';
import { factRules, factsIn, slotOf, type FactRule } from './facts.js';
import { acknowledge, askFor, notTwiceExplained } from './moves.js';
import { navState, relocated, type NavState } from './nav-state.js';

export type { NavState } from './nav-state.js';

export interface Decision {
  action: string;
  /** Example category for retrieval (from rag_queries). */
  ragCategory: string | undefined;
  /** Substate before and after this turn. */
  from: string;
  substate: string;
  /** Criteria of the current substate this message established. */
  criteriaMet: string[];
  /** Criteria of later substates this message established (facts given early). */
  ahead: string[];
  /** Slot values this message establishes: a clean phrase per fact it stated (replacing older ones). */
  captured: Record<string, string>;
  /** Criteria whose question this reply skips because the person answered it before being asked. */
  acknowledged: string[];
  interrupt: string | undefined;
  trigger: string | undefined;
  /** Moved on because `max_attempts` was reached. */
  capReached: boolean;
  transitioned: boolean;
  state: NavState;
}

export interface NavigateInput {
  state: NavState;
  classification: Classification;
  /** Slots known before this message. */
  slots: Record<string, string>;
  text: string;
  /**
   * Criteria an LLM judged this message to meet. Each counts like a matching `met_by`
   * label, in the same order. One that needs a slot nobody knows yet takes it from `quotes`,
   * or stays unmet: words are never guessed from the message. The navigator still decides.
   */
  signals?: readonly string[] | undefined;
  /** Slot name -> the person's own words for it, as the LLM quoted them from this message. */
  quotes?: Readonly<Record<string, string>> | undefined;
}

interface Draft {
  action: string;
  substate: string;
  nav: NavState;
  criteriaMet: string[];
  ahead?: string[];
  captured?: Record<string, string>;
  interrupt?: string | undefined;
  trigger?: string | undefined;
  capReached?: boolean;
}

export class Navigator {
  private readonly substates = new Map<string, Substate>();
  private readonly stageTitles = new Map<string, string>();
  private readonly actionCategory = new Map<string, string>();
  private readonly facts: FactRule[];
  private readonly explanations: ReadonlySet<string>;

  constructor(
    private readonly config: NavigationConfig,
    private readonly classification?: ClassificationConfig,
  ) {
    for (const stage of Object.values(config.stages)) {
      for (const [id, sub] of Object.entries(stage.substates)) {
        this.substates.set(id, sub);
        this.stageTitles.set(id, stage.title);
        for (const [action, cat] of Object.entries(sub.rag_queries)) if (!this.actionCategory.has(action)) this.actionCategory.set(action, cat);
      }
    }
    for (const i of Object.values(config.interrupts)) {
      for (const [action, cat] of Object.entries(i.rag_queries)) if (!this.actionCategory.has(action)) this.actionCategory.set(action, cat);
    }
    this.facts = factRules(config);
    this.explanations = new Set(config.explanations);
  }

  /** State for a new session. */
  initialState(): NavState {
    return { substate: this.config.start, criteriaMet: [], attempts: 0, interruptCounts: {}, completed: [] };
  }

  /** True when `id` names a substate of the current config. */
  has(id: string): boolean {
    return this.substates.has(id);
  }

  substate(id: string): Substate {
    const sub = this.substates.get(id);
    if (!sub) throw new Error(`unknown substate "${id}"`);
    return sub;
  }

  /** The action that (re-)asks for what the substate still needs; used after a pause (safety, reset). */
  promptAction(state: NavState): string {
    const sub = this.substate(state.substate);
    const unmet = sub.completion_criteria.find((c) => !state.criteriaMet.includes(c));
    if (unmet) return sub.criteria[unmet]!.ask;
    return sub.default_action ?? this.entryAction(state.substate);
  }

  /** The title of the stage a substate belongs to. */
  stageTitle(id: string): string {
    return this.stageTitles.get(id) ?? '';
  }

  /** The substate's completion criteria not met yet, in order. */
  missing(state: NavState): string[] {
    return this.substate(state.substate).completion_criteria.filter((c) => !state.criteriaMet.includes(c));
  }

  entryAction(id: string): string {
    const sub = this.substate(id);
    const first = sub.completion_criteria[0];
    const action = sub.entry_action ?? (first ? sub.criteria[first]?.ask : sub.default_action);
    if (!action) throw new Error(`substate "${id}" has no entry action`);
    return action;
  }

  categoryFor(action: string, substate: string): string | undefined {
    return this.substates.get(substate)?.rag_queries[action] ?? this.actionCategory.get(action);
  }

  navigate(input: NavigateInput): Decision {
    const { state, classification, slots } = input;
    const labels = classification.labels;
    const from = state.substate;
    const sub = this.substate(from);

    if (sub.terminal) {
      const action = sub.default_action ?? this.entryAction(from);
      return this.decide(input, { action, substate: from, criteriaMet: [], nav: navState({ ...state, attempts: state.attempts + 1 }) });
    }

    // Slot values this message offers; only clean phrases ever become a slot, and a message that
    // is only a question ("should I close my eyes?") states nothing.
    const { shape: question, question: asking } = questionParts(input.text);
    const candidates: Record<string, string> = {};
    for (const [name, value] of Object.entries(classification.slots)) {
      if (isCleanSlot(value) && !(asking && asking.includes(value.toLowerCase()))) candidates[name] = value;
    }

    // 1. Criteria, in order; each label establishes at most one criterion per message.
    const met = [...state.criteriaMet];
    const newly: string[] = [];
    const used = new Set<string>();
    const captured: Record<string, string> = {};
    const asked = sub.completion_criteria.find((c) => !met.includes(c));
    for (const c of sub.completion_criteria) {
      if (met.includes(c)) continue;
      const rule = sub.criteria[c]!;
      const label = rule.met_by.find((l) => labels.includes(l) && !used.has(l));
      const signalled = input.signals?.includes(c) ?? false;
      if (!label && !signalled) break;
      const need = rule.requires_slot;
      if (need && !candidates[need] && !slots[need] && !captured[need]) {
        const value = signalled ? this.quoted(need, input.quotes) : undefined;
        if (!value) break;
        captured[need] = value;
      }
      const slot = slotOf(rule);
      if (label && slot && candidates[slot]) captured[slot] = candidates[slot];
      // A free answer the model judged met records the words it quoted for it.
      if (signalled && !label && rule.capture && !captured[rule.capture]) {
        const value = this.quoted(rule.capture, input.quotes);
        if (value) captured[rule.capture] = value;
      }
      if (label) used.add(label);
      met.push(c);
      newly.push(c);
    }
    const inOrder = newly.length;

    // 1b. Facts given out of turn: this substate's later criteria, later substates', restated slots.
    const facts = factsIn(this.facts, { labels, candidates, used, current: from, met, completed: state.completed, ahead: state.ahead ?? [] });
    Object.assign(captured, facts.slots);
    met.push(...facts.here);
    newly.push(...facts.here);
    const ahead = [...(state.ahead ?? []), ...facts.later];
    const unasked = [...(state.unasked ?? []), ...facts.here];
    const base = navState({ substate: from, criteriaMet: met, attempts: state.attempts, interruptCounts: state.interruptCounts, completed: state.completed, ahead, unasked, lastAction: state.lastAction });

    // 2. Interrupts.
    const interrupt = this.firedInterrupt(labels, state.interruptCounts);
    if (interrupt) {
      const counts = { ...state.interruptCounts, [interrupt]: (state.interruptCounts[interrupt] ?? 0) + 1 };
      const nav = navState({ ...base, interruptCounts: counts });
      const action = this.config.interrupts[interrupt]!.action!;
      if (this.complete(sub, met)) {
        const a = this.advance(nav, false);
        return this.decide(input, { action, substate: a.substate, nav: a.nav, criteriaMet: newly, ahead: facts.later, captured, interrupt });
      }
      return this.decide(input, { action, substate: from, nav, criteriaMet: newly, ahead: facts.later, captured, interrupt });
    }

    // 3. Triggers, soft answers, open answers, or ask again.
    let trigger: string | undefined;
    let triggerAction: { action: string; goto?: string | undefined } | undefined;
    const softRule = this.config.soft;
    const askedRule = asked ? sub.criteria[asked] : undefined;
    const soft =
      softRule !== undefined &&
      classification.wordCount <= softRule.max_words &&
      !facts.touched &&
      (labels.includes(softRule.label) || labels.some((l) => softRule.also.includes(l) && !askedRule?.met_by.includes(l)));
    let softAction: string | undefined;
    if (inOrder === 0) {
      // A short soft answer ("not sure") is met gently before any trigger reads it as a no; an
      // open question's triggers fire only on a short message or a question ("No time to think
      // between meetings" answers "what has been hard?", it is not a "no").
      const open = askedRule?.accept_any_answer === true;
      const short = classification.wordCount <= (softRule?.max_words ?? 4);
      const brief = !open || short || question !== 'no';
      if (!soft) trigger = Object.keys(sub.triggers).find((label) => labels.includes(label) && (brief || !this.config.short_reply_labels.includes(label)));
      if (trigger) triggerAction = normaliseTrigger(sub.triggers[trigger]!);
      else if (asked && soft) softAction = askedRule!.soft;
      else if (asked && open && this.freeAnswer(classification, question, facts.touched)) {
        const slot = askedRule!.capture;
        // The latest statement of a fact replaces an older one; a fragment is never kept.
        // A `lexicon_only` slot (a place, a sensation) is only ever a word the lexicon knows; the free answer still counts.
        const spec = slot ? this.classification?.slots[slot] : undefined;
        const value = slot ? (candidates[slot] ?? (spec?.lexicon_only ? undefined : captureAnswer(spec, input.text))) : undefined;
        if (slot && value && isCleanSlot(value)) captured[slot] = value;
        // A criterion that needs its slot is only met by an answer that gives a clean one.
        if (!askedRule!.requires_slot || captured[askedRule!.requires_slot] || slots[askedRule!.requires_slot]) {
          met.push(asked);
          newly.push(asked);
        }
      }
    }

    // Facts for later substates do not reset this one's attempts: its own question is still open.
    const nav = navState({ ...base, criteriaMet: met, attempts: newly.length > 0 ? 0 : state.attempts + 1 });
    // Spelled out rather than spread: this is the hot path, and spreads of varying shapes cost.
    const step = (a: { action: string; substate: string; nav: NavState; capReached?: boolean }): Decision =>
      this.decide(input, { action: a.action, substate: a.substate, nav: a.nav, capReached: a.capReached ?? false, criteriaMet: newly, ahead: facts.later, captured, trigger });

    // 4. Progress, a trigger's jump, the attempt cap, or stay.
    if (this.complete(sub, met)) return step(this.advance(nav, false));
    if (triggerAction?.goto) {
      const moved = this.enter(nav, triggerAction.goto);
      return step({ action: triggerAction.action, substate: moved.substate, nav: moved });
    }
    if (sub.max_attempts !== undefined && nav.attempts >= sub.max_attempts) {
      return step(this.advance(nav, true));
    }
    const action = triggerAction?.action ?? softAction ?? this.askAction(nav, state.lastAction);
    return step({ action, substate: from, nav });
  }

  /** A message that can stand as the answer to an open question: words, no question, no other fact, no greeting. */
  private freeAnswer(classification: Classification, question: string, touched: boolean): boolean {
    if (classification.wordCount === 0 || question !== 'no' || touched) return false;
    return !classification.labels.some((l) => this.config.not_answers.includes(l));
  }

  /** The ask for the first open criterion: its `again` wording when that question was just asked. */
  private askAction(nav: NavState, lastAction: string | undefined): string {
    return askFor(this.substate(nav.substate), nav, lastAction) ?? this.promptAction(nav);
  }

  private quoted(slot: string, quotes: NavigateInput['quotes']): string | undefined {
    const quote = quotes?.[slot];
    return quote ? slotFromQuote(this.classification?.slots[slot], quote) : undefined;
  }

  /** Where a session goes when this config no longer has its substate (nav-state.ts `relocated`). */
  relocate(state: NavState): NavState {
    return relocated(state, this.substates, this.initialState());
  }

  /** What a slot holds, from the classification config (for an LLM's instructions). */
  slotDescription(slot: string): string {
    return this.classification?.slots[slot]?.description ?? slot;
  }

  /** Slots the substate's missing criteria need (`requires_slot` or `capture`) that `known` lacks. */
  neededSlots(state: NavState, known: Readonly<Record<string, string>>): string[] {
    const sub = this.substate(state.substate);
    const out: string[] = [];
    for (const c of this.missing(state)) {
      const slot = sub.criteria[c]?.requires_slot ?? sub.criteria[c]?.capture;
      if (slot && !known[slot] && !out.includes(slot)) out.push(slot);
    }
    return out;
  }

  private firedInterrupt(labels: readonly string[], counts: Record<string, number>): string | undefined {
    for (const name of this.config.interrupt_priority) {
      const i = this.config.interrupts[name];
      if (!i || i.handler === 'safety' || !i.when || !i.max_attempts) continue;
      if ((counts[name] ?? 0) >= i.max_attempts) continue;
      if (i.when.some((l) => labels.includes(l))) return name;
    }
    return undefined;
  }

  private complete(sub: Substate, met: readonly string[]): boolean {
    return sub.completion_criteria.every((c) => met.includes(c));
  }

  /**
   * Leaves the current substate for its `next`; the reply is the next one's entry action. A
   * substate whose facts were all given earlier is passed through (their questions are skipped).
   */
  private advance(nav: NavState, capReached: boolean): { action: string; substate: string; nav: NavState; capReached: boolean } {
    let moved = nav;
    for (;;) {
      const next = this.substate(moved.substate).next;
      if (!next) throw new Error(`substate "${moved.substate}" has no "next"`);
      moved = this.enter(moved, next);
      const sub = this.substate(next);
      if (sub.terminal || !this.complete(sub, moved.criteriaMet)) break;
    }
    const sub = this.substate(moved.substate);
    const action = sub.entry_action ?? this.promptAction(moved);
    return { action, substate: moved.substate, nav: moved, capReached };
  }

  /** Enters a substate with the facts already given for it met (and still to be acknowledged). */
  private enter(nav: NavState, id: string): NavState {
    const sub = this.substate(id);
    const known = nav.ahead ?? [];
    const given = sub.completion_criteria.filter((c) => known.includes(c));
    const ahead = known.filter((c) => !given.includes(c));
    const unasked = [...(nav.unasked ?? []), ...given];
    return navState({ substate: id, criteriaMet: given, attempts: 0, interruptCounts: {}, completed: [...nav.completed, nav.substate], ahead, unasked, lastAction: nav.lastAction });
  }

  private decide(input: NavigateInput, d: Draft): Decision {
    const from = input.state.substate;
    const sub = this.substate(d.substate);
    const action = notTwiceExplained(this.explanations, sub, d.nav, d.action, input.state.lastAction);
    const interruptDef = d.interrupt ? this.config.interrupts[d.interrupt] : undefined;
    const { acknowledged, nav } = acknowledge(sub, d.nav, action);
    return {
      action,
      ragCategory: interruptDef?.rag_queries[action] ?? this.categoryFor(action, d.substate),
      from,
      substate: d.substate,
      criteriaMet: d.criteriaMet,
      ahead: d.ahead ?? [],
      captured: d.captured ?? {},
      acknowledged,
      interrupt: d.interrupt,
      trigger: d.trigger,
      capReached: d.capReached ?? false,
      transitioned: d.substate !== from,
      state: navState({ ...nav, lastAction: action }),
    };
  }
}

function normaliseTrigger(t: Trigger): { action: string; goto?: string | undefined } {
  return typeof t === 'string' ? { action: t } : t;
}
