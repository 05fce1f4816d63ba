/**
 * What the person has found, in their own words: the `summary` command, and the {summary} the
 * end of a stage quotes. Built from the config's phrases per criterion, filled with the slots
 * (the person's words, reflected); a phrase whose slot is unknown or not clean is left out
 * rather than said with a gap.
 */
import type { NavigationConfig, ResponsesConfig } from '../config/schemas.js';
import { isCleanSlot } from '../classifier/slots.js';
import { fillSlots, slotNames } from '../text/template.js';
import type { SessionState } from './session-state.js';

/** "a, b and c" */
function joinList(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/** The stage the session is in: its criteria in order. */
function stageCriteria(nav: NavigationConfig, substate: string): string[] {
  const stage = Object.values(nav.stages).find((s) => substate in s.substates);
  return stage ? Object.values(stage.substates).flatMap((s) => s.completion_criteria) : [];
}

/** The found facts as phrases in the person's words ("you want to feel calm", "it lives in your chest"). */
export function foundFacts(responses: ResponsesConfig, state: SessionState): string[] {
  const phrases = responses.summary?.facts ?? {};
  const known = new Set([...state.facts, ...(state.nav.ahead ?? [])]);
  const out: string[] = [];
  for (const [criterion, phrase] of Object.entries(phrases)) {
    if (!known.has(criterion)) continue;
    if (!slotNames(phrase).every((s) => isCleanSlot(state.slots[s]))) continue;
    out.push(fillSlots(phrase, state.slots));
  }
  return out;
}

/** What the stage still needs, in plain words. */
export function openFacts(nav: NavigationConfig, responses: ResponsesConfig, state: SessionState): string[] {
  const open = responses.summary?.open_facts ?? {};
  const known = new Set([...state.facts, ...(state.nav.ahead ?? [])]);
  return stageCriteria(nav, state.nav.substate)
    .filter((c) => !known.has(c) && open[c] !== undefined)
    .map((c) => open[c]!);
}

/** The {summary} an end-of-stage line quotes: the found facts as one sentence ("" when none). */
export function summarySentence(responses: ResponsesConfig, state: SessionState): string {
  const found = foundFacts(responses, state);
  if (!responses.summary || found.length === 0) return '';
  return fillSlots(responses.summary.found, { found: joinList(found) });
}

/** The `summary` command's reply: what was found, then what is still open (or that the stage is done). */
export function summaryText(nav: NavigationConfig, responses: ResponsesConfig, state: SessionState): string {
  const s = responses.summary;
  if (!s) return responses.commands.help;
  const found = summarySentence(responses, state) || s.nothing_yet;
  const open = openFacts(nav, responses, state);
  const tail = open.length > 0 ? fillSlots(s.open, { open: joinList(open) }) : s.complete;
  return `${found} ${tail}`;
}
