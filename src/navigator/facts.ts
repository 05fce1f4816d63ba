/**
 * Facts whenever they come: the criteria a message establishes outside the question being
 * asked. A person who says "a tight knot in my chest" while the guide is still on the vision
 * has answered two later questions; the navigator counts them when their substate comes and
 * never asks for them. Which labels count where is config (`ahead_by` on a criterion), so the
 * rule stays data and the navigator a pure function.
 */
import type { Criterion, NavigationConfig } from '../config/schemas.js';

/** A criterion that can be established out of its turn. */
export interface FactRule {
  criterion: string;
  substate: string;
  labels: readonly string[];
  /** The slot it fills (`requires_slot` or `capture`); the fact only counts with a value for it. */
  slot: string | undefined;
}

/** The slot a criterion fills or needs. */
export const slotOf = (rule: Criterion): string | undefined => rule.requires_slot ?? rule.capture;

/** Every criterion with `ahead_by` labels, in file order. */
export function factRules(config: NavigationConfig): FactRule[] {
  const out: FactRule[] = [];
  for (const stage of Object.values(config.stages)) {
    for (const [substate, sub] of Object.entries(stage.substates)) {
      for (const c of sub.completion_criteria) {
        const rule = sub.criteria[c];
        if (rule && rule.ahead_by.length > 0) out.push({ criterion: c, substate, labels: rule.ahead_by, slot: slotOf(rule) });
      }
    }
  }
  return out;
}

export interface FactsFound {
  /** Criteria of the current substate established out of order. */
  here: string[];
  /** Criteria of substates still to come. */
  later: string[];
  /** Slot values these facts bring (a later statement replaces an earlier one). */
  slots: Record<string, string>;
  /** A new fact was established (the message answered something else, so it is not a free answer). */
  touched: boolean;
}

export interface FactContext {
  labels: readonly string[];
  /** Clean slot values from this message. */
  candidates: Readonly<Record<string, string>>;
  /** Labels already used by the criteria met in order this turn. */
  used: ReadonlySet<string>;
  current: string;
  /** Criteria met so far in the current substate (this turn's included). */
  met: readonly string[];
  /** Substates already left: their criteria are settled, only their slots may be restated. */
  completed: readonly string[];
  /** Criteria already known for later substates. */
  ahead: readonly string[];
}

export function factsIn(rules: readonly FactRule[], ctx: FactContext): FactsFound {
  const found: FactsFound = { here: [], later: [], slots: {}, touched: false };
  for (const rule of rules) {
    const label = rule.labels.find((l) => ctx.labels.includes(l) && !ctx.used.has(l));
    if (!label) continue;
    const value = rule.slot ? ctx.candidates[rule.slot] : undefined;
    if (rule.slot && !value) continue;
    if (rule.slot && value) found.slots[rule.slot] = value;
    const settled = ctx.completed.includes(rule.substate) || ctx.ahead.includes(rule.criterion) || (rule.substate === ctx.current && ctx.met.includes(rule.criterion));
    if (settled) continue;
    found.touched = true;
    if (rule.substate === ctx.current) found.here.push(rule.criterion);
    else found.later.push(rule.criterion);
  }
  return found;
}
