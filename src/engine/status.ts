/** The `status` command: where the person is, in plain words. */
import type { NavigationConfig, ResponsesConfig } from '../config/schemas.js';
import { fillSlots } from '../text/template.js';
import type { SessionState } from './session-state.js';

export function statusText(nav: NavigationConfig, responses: ResponsesConfig, state: SessionState): string {
  const { substate } = state.nav;
  const stageEntry = Object.entries(nav.stages).find(([, stage]) => substate in stage.substates);
  if (!stageEntry) return responses.commands.help;
  const [, stage] = stageEntry;
  const ids = Object.keys(stage.substates);
  const sub = stage.substates[substate]!;
  const stageTitle = stage.title.replace(/^([A-Z])/, (c) => c.toLowerCase());
  const facts = state.facts
    .map((c) => responses.criteria_facts[c])
    .filter((f): f is string => Boolean(f))
    .map((f) => fillSlots(f, state.slots))
    .filter((f) => !/\{[a-z_]+\}/.test(f));
  if (sub.terminal) return fillSlots(responses.commands.status_complete, { stage: stageTitle });
  const progress = facts.length > 0 ? fillSlots(responses.commands.status_progress, { facts: facts.join('; ') }) : '';
  return fillSlots(responses.commands.status, {
    step: ids.indexOf(substate) + 1,
    steps: ids.filter((id) => !stage.substates[id]!.terminal).length,
    stage: stageTitle,
    substate_title: sub.title,
    progress,
  });
}
