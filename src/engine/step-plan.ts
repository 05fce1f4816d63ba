/**
 * The navigator's choices, for a responder that judges criteria (an LLM): what it
 * would do if the message met none, the first, the first two… of the criteria the
 * substate still misses (beyond those the phrase matcher found in this message). The responder writes for one choice and names the criteria;
 * the navigator then decides with them, so a claim outside these choices is refused.
 */
import type { Decision, Navigator, NavState } from '../navigator/navigator.js';
import type { Judged, StepChoice, StepPlan } from '../responder/responder.js';

export function stepPlan(
  navigator: Navigator,
  nav: NavState,
  base: Decision,
  judge: (judged: Judged) => Decision,
  known: Readonly<Record<string, string>>,
): Omit<StepPlan, 'examples'> {
  const sub = navigator.substate(nav.substate);
  // Criteria the phrase matcher already established in this message are done: the model judges the rest.
  const done = [...nav.criteriaMet, ...base.criteriaMet];
  const missing = navigator.missing(nav).filter((c) => !done.includes(c));
  const slots = navigator.neededSlots(nav, known);
  // The options assume the responder quotes the words each criterion needs (it is told to).
  const quotes = Object.fromEntries(slots.map((name) => [name, 'words']));
  const choices: StepChoice[] = [{ criteria: [], action: base.action, category: base.ragCategory }];
  for (let k = 1; k <= missing.length; k++) {
    const d = judge({ criteria: missing.slice(0, k), quotes });
    choices.push({ criteria: missing.slice(0, k), action: d.action, category: d.ragCategory });
  }
  return {
    stageTitle: navigator.stageTitle(nav.substate),
    substateTitle: sub.title,
    objective: sub.objective,
    done,
    missing,
    choices,
    slots: slots.map((name) => ({ name, description: navigator.slotDescription(name) })),
    actionFor: (judged) => judge(judged).action,
  };
}
