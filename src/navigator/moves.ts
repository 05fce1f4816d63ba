/**
 * How the navigator words a step it has chosen: asking again differently, never explaining
 * twice in a row, and saying which questions it skips because the answer came earlier.
 * Pure functions over one substate's config and the navigator's state.
 */
import type { Substate } from '../config/schemas.js';
import type { NavState } from './nav-state.js';

/** The first criterion of the substate not met yet. */
const openCriterion = (sub: Substate, nav: NavState): string | undefined => sub.completion_criteria.find((c) => !nav.criteriaMet.includes(c));

/** The actions that ask for a criterion (its question, its re-wording, its gentle check). */
const asksOf = (sub: Substate, criterion: string): (string | undefined)[] => {
  const rule = sub.criteria[criterion]!;
  return [rule.ask, rule.again, rule.soft];
};

/** The ask for the first open criterion: its `again` wording when that question was just asked. */
export function askFor(sub: Substate, nav: NavState, lastAction: string | undefined): string | undefined {
  const open = openCriterion(sub, nav);
  if (!open) return undefined;
  const rule = sub.criteria[open]!;
  const justAsked = lastAction !== undefined && asksOf(sub, open).includes(lastAction);
  return justAsked && rule.again ? rule.again : rule.ask;
}

/** An explanation never follows an explanation: the open criterion's `again` (a check that it landed) stands in. */
export function notTwiceExplained(explanations: ReadonlySet<string>, sub: Substate, nav: NavState, action: string, lastAction: string | undefined): string {
  if (!explanations.has(action) || lastAction === undefined || !explanations.has(lastAction)) return action;
  const open = openCriterion(sub, nav);
  const again = open ? sub.criteria[open]!.again : undefined;
  return again && !explanations.has(again) ? again : action;
}

/**
 * The criteria this reply passes over without asking: those met unasked that come before the
 * question it asks, or belong to a substate already left. Only a reply that is the substate's
 * own question (or its entry) skips anything; an interrupt's reply acknowledges nothing yet.
 */
export function acknowledge(sub: Substate, nav: NavState, action: string): { acknowledged: string[]; nav: NavState } {
  const unasked = nav.unasked ?? [];
  if (unasked.length === 0) return { acknowledged: [], nav };
  const open = openCriterion(sub, nav);
  const isQuestion = open ? asksOf(sub, open).includes(action) : action === sub.entry_action || action === sub.default_action;
  if (!isQuestion) return { acknowledged: [], nav };
  const before = open ? sub.completion_criteria.slice(0, sub.completion_criteria.indexOf(open)) : sub.completion_criteria;
  const acknowledged = unasked.filter((c) => before.includes(c) || !sub.completion_criteria.includes(c));
  const rest = unasked.filter((c) => !acknowledged.includes(c));
  return { acknowledged, nav: { ...nav, unasked: rest } };
}
