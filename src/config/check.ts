/**
 * Cross-checks between config files and the example corpus: what zod cannot
 * see from one file alone. Run at start-up and by `npm run config:check`.
 */
import { normalize } from '../text/normalize.js';
import { BUILT_IN_SLOTS, slotNames } from '../text/template.js';
import { CONFIG_FILES, EXCHANGES_FILE, jsonPath, sourceOf, type ConfigProblem, type EngineConfig } from './load.js';
import type { Exchange } from './schemas.js';
import { checkLlmConfig } from './check-llm.js';

/** Fewest examples each retrieval category needs. */
export const MIN_EXAMPLES_PER_CATEGORY = 5;

/** Where a part came from when it was not loaded from a file (built in code): the default folders. */
const DEFAULT = (file: string) => `config/system/core_system/${file}`;

export function checkConfig(config: EngineConfig, exchanges: readonly Exchange[]): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  // The files this config was loaded from (another folder than config/ for `config:check --config-dir`).
  const NAV = sourceOf(config.navigation, DEFAULT(CONFIG_FILES.navigation));
  const CLS = sourceOf(config.classification, DEFAULT(CONFIG_FILES.classification));
  const RSP = sourceOf(config.responses, DEFAULT(CONFIG_FILES.responses));
  const SAF = sourceOf(config.safety, DEFAULT(CONFIG_FILES.safety));
  const TEN = sourceOf(config.tenants, DEFAULT(CONFIG_FILES.tenants));
  const LLM = sourceOf(config.llm, DEFAULT(CONFIG_FILES.llm));
  const EXC = sourceOf(exchanges, `data/${EXCHANGES_FILE}`);
  const add = (file: string, path: PropertyKey[], message: string, unused = false) => problems.push({ file, path: jsonPath(path), message, ...(unused ? { unused } : {}) });
  const { navigation: nav, classification: cls, responses: rsp, safety } = config;

  const labels = new Set([...Object.keys(cls.situation_classifications), ...Object.keys(cls.computed)]);
  const slots = new Set(Object.keys(cls.slots));
  const substates = new Map(Object.entries(nav.stages).flatMap(([stageId, st]) => Object.entries(st.substates).map(([id, s]) => [id, { stageId, s }] as const)));
  const categories = new Map<string, PropertyKey[]>(); // category -> where it is named

  const needAction = (action: string, path: PropertyKey[]) => {
    if (!rsp.actions[action]) add(NAV, path, `action "${action}" has no lines in ${CONFIG_FILES.responses}`);
  };
  const needLabel = (label: string, path: PropertyKey[]) => {
    if (!labels.has(label)) add(NAV, path, `classification "${label}" is not defined in ${CONFIG_FILES.classification}`);
  };
  const needSlot = (slot: string, file: string, path: PropertyKey[]) => {
    if (!slots.has(slot) && !BUILT_IN_SLOTS.includes(slot)) add(file, path, `slot "${slot}" is not defined in ${CONFIG_FILES.classification} "slots"`);
  };
  const needRag = (action: string, rag: Record<string, string>, path: PropertyKey[]) => {
    if (!rag[action]) add(NAV, path, `action "${action}" has no rag_queries entry (action -> example category)`);
  };

  // ---- navigation
  if (!substates.has(nav.start)) add(NAV, ['start'], `substate "${nav.start}" does not exist`);
  for (const [id, { stageId, s }] of substates) {
    const base: PropertyKey[] = ['stages', stageId, 'substates', id];
    for (const [action, cat] of Object.entries(s.rag_queries)) {
      needAction(action, [...base, 'rag_queries', action]);
      if (!categories.has(cat)) categories.set(cat, [...base, 'rag_queries', action]);
    }
    s.completion_criteria.forEach((c, i) => {
      if (!s.criteria[c]) add(NAV, [...base, 'completion_criteria', i], `criterion "${c}" has no entry in "criteria"`);
    });
    for (const [c, rule] of Object.entries(s.criteria)) {
      const p = [...base, 'criteria', c];
      if (!s.completion_criteria.includes(c)) add(NAV, p, `criterion "${c}" is not listed in "completion_criteria"`);
      rule.met_by.forEach((l, i) => needLabel(l, [...p, 'met_by', i]));
      if (rule.met_by.length === 0 && !rule.accept_any_answer) add(NAV, [...p, 'met_by'], 'nothing can establish this criterion (no met_by and no accept_any_answer)');
      if (rule.requires_slot) needSlot(rule.requires_slot, NAV, [...p, 'requires_slot']);
      if (rule.capture) needSlot(rule.capture, NAV, [...p, 'capture']);
      needAction(rule.ask, [...p, 'ask']);
      needRag(rule.ask, s.rag_queries, [...p, 'ask']);
      for (const field of ['again', 'soft'] as const) {
        const action = rule[field];
        if (!action) continue;
        needAction(action, [...p, field]);
        needRag(action, s.rag_queries, [...p, field]);
      }
      rule.ahead_by.forEach((l, j) => needLabel(l, [...p, 'ahead_by', j]));
    }
    for (const [label, t] of Object.entries(s.triggers)) {
      const p = [...base, 'triggers', label];
      needLabel(label, p);
      const action = typeof t === 'string' ? t : t.action;
      needAction(action, p);
      needRag(action, s.rag_queries, p);
      if (typeof t !== 'string' && t.goto && !substates.has(t.goto)) add(NAV, [...p, 'goto'], `target substate "${t.goto}" does not exist`);
    }
    for (const field of ['entry_action', 'default_action'] as const) {
      const action = s[field];
      if (action) {
        needAction(action, [...base, field]);
        needRag(action, s.rag_queries, [...base, field]);
      }
    }
    if (s.terminal) {
      if (!s.entry_action && !s.default_action && s.completion_criteria.length === 0) add(NAV, base, 'a terminal substate needs "entry_action" or "default_action"');
    } else {
      if (s.completion_criteria.length === 0) add(NAV, [...base, 'completion_criteria'], 'a non-terminal substate needs at least one criterion');
      if (!s.next) add(NAV, base, 'a non-terminal substate needs "next"');
    }
    if (s.next && !substates.has(s.next)) add(NAV, [...base, 'next'], `target substate "${s.next}" does not exist`);
  }

  nav.explanations.forEach((a, i) => needAction(a, ['explanations', i]));
  if (nav.soft) {
    needLabel(nav.soft.label, ['soft', 'label']);
    nav.soft.also.forEach((l, i) => needLabel(l, ['soft', 'also', i]));
  }

  // ---- interrupts
  nav.interrupt_priority.forEach((name, i) => {
    if (!nav.interrupts[name]) add(NAV, ['interrupt_priority', i], `interrupt "${name}" is not defined in "interrupts"`);
    if (nav.interrupt_priority.indexOf(name) !== i) add(NAV, ['interrupt_priority', i], `interrupt "${name}" is listed twice`);
  });
  for (const [name, i] of Object.entries(nav.interrupts)) {
    const p: PropertyKey[] = ['interrupts', name];
    if (!nav.interrupt_priority.includes(name)) add(NAV, p, `interrupt "${name}" is missing from "interrupt_priority"`);
    if (i.handler === 'safety') {
      if (i.max_attempts !== undefined) add(NAV, [...p, 'max_attempts'], 'safety interrupts are never capped');
      continue;
    }
    i.when?.forEach((l, j) => needLabel(l, [...p, 'when', j]));
    if (i.action) {
      needAction(i.action, [...p, 'action']);
      needRag(i.action, i.rag_queries, [...p, 'action']);
    }
    for (const [action, cat] of Object.entries(i.rag_queries)) {
      needAction(action, [...p, 'rag_queries', action]);
      if (!categories.has(cat)) categories.set(cat, [...p, 'rag_queries', action]);
    }
  }

  // ---- reachability from the start
  const seen = new Set<string>();
  const queue = substates.has(nav.start) ? [nav.start] : [];
  while (queue.length > 0) {
    const id = queue.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    const s = substates.get(id)?.s;
    if (!s) continue;
    if (s.next) queue.push(s.next);
    for (const t of Object.values(s.triggers)) if (typeof t !== 'string' && t.goto) queue.push(t.goto);
  }
  for (const [id, { stageId }] of substates) {
    if (!seen.has(id)) add(NAV, ['stages', stageId, 'substates', id], `substate "${id}" is unreachable from "${nav.start}"`);
  }

  // ---- duplicated patterns
  checkDuplicates(
    Object.entries(cls.situation_classifications).flatMap(([label, list]) => list.map((phrase, i) => ({ phrase, path: ['situation_classifications', label, i] }))),
    (path, msg) => add(CLS, path, msg),
  );
  for (const [slot, spec] of Object.entries(cls.slots)) {
    checkDuplicates((spec.after ?? []).map((phrase, i) => ({ phrase, path: ['slots', slot, 'after', i] })), (path, msg) => add(CLS, path, msg));
    for (const field of ['clause_of', 'lexicon'] as const) {
      const label = spec[field];
      if (label && !labels.has(label)) add(CLS, ['slots', slot, field], `classification "${label}" is not defined`);
    }
  }
  const safetyLists: Array<[PropertyKey[], readonly string[]]> = [
    [['release', 'safe_statements'], safety.release.safe_statements],
    [['release', 'denials'], safety.release.denials],
  ];
  checkDuplicates(
    safetyLists.flatMap(([base, list]) => list.map((phrase, i) => ({ phrase, path: [...base, i] }))),
    (path, msg) => add(SAF, path, msg),
  );

  // ---- responses
  for (const [action, lines] of Object.entries(rsp.actions)) {
    lines.forEach((line, i) => slotNames(line).forEach((s) => needSlot(s, RSP, ['actions', action, i])));
    if (lines.every((l) => slotNames(l).some((n) => !BUILT_IN_SLOTS.includes(n)))) add(RSP, ['actions', action], 'every line needs a slot; add one without slots for when nothing is known');
  }
  // Short variants name slots the same way (the usual lines stand in where none of them fits).
  for (const [action, lines] of Object.entries(rsp.short_actions ?? {})) lines.forEach((line, i) => slotNames(line).forEach((s) => needSlot(s, RSP, ['short_actions', action, i])));
  for (const [c, fact] of Object.entries(rsp.criteria_facts)) {
    slotNames(fact).forEach((s) => needSlot(s, RSP, ['criteria_facts', c]));
  }
  // Phrases for a criterion the navigation does not have are never used (an override may remove a substate).
  for (const [c, line] of Object.entries(rsp.acknowledge)) {
    slotNames(line).forEach((s) => needSlot(s, RSP, ['acknowledge', c]));
  }
  if (!rsp.actions.breathe) add(RSP, ['actions'], 'the `breathe` command needs lines under "actions.breathe"');
  if (rsp.summary) {
    for (const field of ['facts', 'open_facts'] as const) {
      for (const [c, text] of Object.entries(rsp.summary[field])) {
        slotNames(text).forEach((s) => needSlot(s, RSP, ['summary', field, c]));
      }
    }
  }
  // System texts are filled by the engine with fixed values, not with conversation slots.
  const systemSlots: Record<string, readonly string[]> = { too_long: ['limit'], rate_limited: ['wait'] };
  for (const [key, allowed] of Object.entries(systemSlots)) {
    const text = (rsp.system as Record<string, string>)[key] ?? '';
    for (const s of slotNames(text)) if (!allowed.includes(s)) add(RSP, ['system', key], `slot "{${s}}" is never filled here (only ${allowed.map((a) => `{${a}}`).join(', ')})`);
  }
  rsp.offline.use_examples_for.forEach((a, i) => {
    if (!rsp.actions[a]) add(RSP, ['offline', 'use_examples_for', i], `action "${a}" has no lines`);
  });

  // check-llm.ts names the default path; its problems belong to the llm file actually loaded.
  checkLlmConfig(config, (file, path, message, unused) => add(file === DEFAULT(CONFIG_FILES.llm) ? LLM : file, path, message, unused));
  // ---- tenants: a workspace or server belongs to one tenant
  const owner = new Map<string, string>();
  for (const [name, t] of Object.entries(config.tenants.tenants)) {
    for (const [platform, ids] of [['slack_teams', t.slack_teams], ['discord_guilds', t.discord_guilds]] as const) {
      ids.forEach((id, i) => {
        const prev = owner.get(`${platform}:${id}`);
        if (prev) add(TEN, ['tenants', name, platform, i], `"${id}" already belongs to tenant "${prev}"`);
        else owner.set(`${platform}:${id}`, name);
      });
    }
  }
  checkDuplicates(
    [
      ...Object.entries(config.llm.guards.banned).flatMap(([reason, list]) => list.map((phrase, i) => ({ phrase, path: ['guards', 'banned', reason, i] }))),
      ...config.llm.guards.escalate.map((phrase, i) => ({ phrase, path: ['guards', 'escalate', i] })),
    ],
    (path, msg) => add(LLM, path, msg),
  );

  // ---- example corpus
  const perCategory = new Map<string, number>();
  const ids = new Set<string>();
  exchanges.forEach((e, i) => {
    perCategory.set(e.category, (perCategory.get(e.category) ?? 0) + 1);
    if (ids.has(e.id)) add(EXC, [i, 'id'], `id "${e.id}" is used twice`);
    ids.add(e.id);
    if (!substates.has(e.substate)) add(EXC, [i, 'substate'], `substate "${e.substate}" does not exist`, true);
    if (!rsp.actions[e.action]) add(EXC, [i, 'action'], `action "${e.action}" does not exist`, true);
    if (!categories.has(e.category)) add(EXC, [i, 'category'], `category "${e.category}" is not named by any rag_queries`, true);
  });
  for (const [cat, where] of categories) {
    const n = perCategory.get(cat) ?? 0;
    if (n < MIN_EXAMPLES_PER_CATEGORY) add(NAV, where, `category "${cat}" has ${n} example(s) in ${EXC}; at least ${MIN_EXAMPLES_PER_CATEGORY} needed`);
  }
  return problems;
}

function checkDuplicates(items: Array<{ phrase: string; path: PropertyKey[] }>, report: (path: PropertyKey[], msg: string) => void): void {
  const first = new Map<string, PropertyKey[]>();
  for (const { phrase, path } of items) {
    const key = normalize(phrase.replace(/\*\s*$/, '')) + (phrase.trim().endsWith('*') ? '*' : '');
    if (key.replace('*', '').length === 0) {
      report(path, `phrase "${phrase}" is empty once punctuation is ignored`);
      continue;
    }
    const prev = first.get(key);
    if (prev) report(path, `phrase "${phrase}" is listed twice (first at ${jsonPath(prev)})`);
    else first.set(key, path);
  }
}
