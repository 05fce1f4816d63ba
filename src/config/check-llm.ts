/**
 * Cross-checks of the LLM prompt config against navigation and responses: every
 * action the navigator can choose needs guidance, every completion criterion a
 * description, and the templates may only use placeholders the prompt builder fills.
 */
import { slotNames } from '../text/template.js';
import { CONFIG_FILES, type EngineConfig } from './load.js';

const LLM = `config/system/core_system/${CONFIG_FILES.llm}`;

/** Placeholders each template may use; those in `required` must appear. */
export const LLM_TEMPLATE_SLOTS = {
  system_prompt: {
    allowed: ['role', 'method_rules', 'safety_rules', 'stage_title', 'substate_title', 'objective', 'criteria_done', 'criteria_missing', 'classification', 'options', 'slots', 'marker', 'max_reply_chars'],
    // The role (not a clinician) and the safety rules must reach the model, whatever the template.
    required: ['role', 'safety_rules', 'options', 'slots', 'marker'],
  },
  option_line: { allowed: ['number', 'criteria', 'action', 'guidance'], required: ['action', 'guidance'] },
  example_line: { allowed: ['client', 'guide'], required: [] },
} as const;

export function checkLlmConfig(config: EngineConfig, add: (file: string, path: PropertyKey[], message: string, unused?: boolean) => void): void {
  const { llm, navigation, responses } = config;
  for (const action of Object.keys(responses.actions)) {
    if (!llm.actions[action]) add(LLM, ['actions'], `action "${action}" has no guidance (what its reply should do)`);
  }
  for (const action of Object.keys(llm.actions)) {
    if (!responses.actions[action]) add(LLM, ['actions', action], `action "${action}" is not an action of ${CONFIG_FILES.responses}`, true);
  }
  const criteria = new Set<string>();
  for (const stage of Object.values(navigation.stages)) for (const s of Object.values(stage.substates)) for (const c of s.completion_criteria) criteria.add(c);
  for (const c of criteria) if (!llm.criteria[c]) add(LLM, ['criteria'], `criterion "${c}" has no description (when a message meets it)`);
  for (const c of Object.keys(llm.criteria)) if (!criteria.has(c)) add(LLM, ['criteria', c], `criterion "${c}" is not a completion criterion of ${CONFIG_FILES.navigation}`, true);
  for (const [field, spec] of Object.entries(LLM_TEMPLATE_SLOTS)) {
    const used = slotNames(llm[field as keyof typeof LLM_TEMPLATE_SLOTS]);
    for (const s of used) if (!(spec.allowed as readonly string[]).includes(s)) add(LLM, [field], `placeholder "{${s}}" is never filled (allowed: ${spec.allowed.join(', ')})`);
    for (const s of spec.required) if (!used.includes(s)) add(LLM, [field], `placeholder "{${s}}" is required`);
  }
}
