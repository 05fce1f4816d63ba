/**
 * The conversation evaluation: each persona's messages, one per turn, through the real engine
 * (the offline responder: deterministic), scored on what a person would notice:
 *   - reached the end of stage 1, and in how many turns (the minimum is one answer per question
 *     the stage asks: its completion criteria);
 *   - verbatim repeats: a reply equal to one of the 8 before it;
 *   - re-asks: a reply asking for a fact the persona had already stated;
 *   - slot errors: a slot set to a value the persona's script does not accept for it, and
 *     fragments (a value cut mid-clause, judged here independently of the engine's own check);
 *   - interrupts fired, and attempt caps reached.
 */
import type { Engine, EngineConfig, SessionStore, TurnObserver } from '../index.js';
import { FACT_CRITERIA, SLOT_FACTS, type Fact, type Persona } from './personas.js';

export interface TurnRecord {
  say: string;
  reply: string;
  substate: string;
  action: string | undefined;
  interrupt: string | undefined;
  capped: boolean;
  slots: Record<string, string>;
  problems: string[];
}

/** What is counted per persona and summed in the totals. */
export interface Counts {
  repeats: number;
  reasks: number;
  slotErrors: number;
  fragments: number;
  interrupts: number;
  caps: number;
}

export interface PersonaScore extends Counts {
  name: string;
  file: string;
  cooperative: boolean;
  messages: number;
  reachedEnd: boolean;
  /** Messages sent until stage 1 ended (undefined when it did not). */
  turnsToEnd: number | undefined;
  minTurns: number;
  /** A cooperative persona finished within 1.3x the minimum. */
  withinGoal: boolean | undefined;
  /** Turns answered by the safety protocol (a check-in, the crisis response, the safety state). */
  safety: number;
  /** Where it stopped, when it did not reach the end. */
  endedIn: string;
  transcript: TurnRecord[];
}

export interface EvalTotals extends Counts {
  personas: number;
  reachedEnd: number;
  cooperative: number;
  cooperativeWithinGoal: number;
  turnsToEnd: number;
  /** Personas that met the safety protocol (none of them is scripted to be at risk: each is a false alarm). */
  safetyPersonas: number;
}

export const REPEAT_WINDOW = 8;
export const GOAL_FACTOR = 1.3;

/** Words a quoted phrase cannot end on, and phrases that cannot open one: the evaluation's own judge. */
const BAD_END = /\b(and|or|but|to|of|the|a|an|my|your|with|in|on|at|for|is|are|was|it|it's|its|i|i'm|you're|that|this|be|if|when|because|think|feel|so|than|like|very|really)$/i;
const BAD_START = /^(it's|its|it|that's|that|this|when|whenever|if|because|which)\b/i;
export function isFragment(value: string): boolean {
  const v = value.trim().replace(/[’‘]/g, "'").replace(/[.,;:!]+$/, '');
  return v.length === 0 || BAD_END.test(v) || BAD_START.test(v) || /[?{}]/.test(v);
}

const norm = (s: string): string => s.toLowerCase().replace(/[’‘]/g, "'").replace(/[.,;:!?]+$/, '').replace(/\s+/g, ' ').trim();

/** The number of questions stage 1 asks: every completion criterion of its substates. */
export function minimumTurns(config: EngineConfig): number {
  const stage = Object.values(config.navigation.stages)[0]!;
  return Object.values(stage.substates).reduce((n, s) => n + s.completion_criteria.length, 0);
}

/** Criterion -> the actions that ask for it (its question, its re-wording, its gentle check). */
function askActions(config: EngineConfig): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const stage of Object.values(config.navigation.stages)) {
    for (const sub of Object.values(stage.substates)) {
      for (const [c, rule] of Object.entries(sub.criteria)) {
        out.set(c, new Set([rule.ask, rule.again, rule.soft].filter((a): a is string => a !== undefined)));
      }
    }
  }
  return out;
}

export interface EvalDeps {
  /** A fresh engine per persona, with its store and the observer the engine reports to. */
  engine: () => { engine: Engine; store: SessionStore; observe: (o: TurnObserver['turn']) => void };
  config: EngineConfig;
}

export async function runPersona(deps: EvalDeps, persona: Persona): Promise<PersonaScore> {
  const { engine, store, observe } = deps.engine();
  const sessionId = `eval:${persona.name}`;
  let interrupt: string | undefined;
  observe((e) => void (interrupt = e.interrupt));
  const asks = askActions(deps.config);
  const terminal = new Set(
    Object.values(deps.config.navigation.stages).flatMap((st) => Object.entries(st.substates).filter(([, s]) => s.terminal).map(([id]) => id)),
  );
  const capLine = deps.config.responses.system.cap_move_on;
  const minTurns = minimumTurns(deps.config);
  const given = new Set<Fact>();
  const accepted = new Map<string, Set<string>>();
  const replies: string[] = [];
  const transcript: TurnRecord[] = [];
  let slots: Record<string, string> = {};
  let turnsToEnd: number | undefined;
  const score = { repeats: 0, reasks: 0, slotErrors: 0, fragments: 0, interrupts: 0, caps: 0, safety: 0 };

  for (const [i, m] of persona.messages.entries()) {
    for (const [fact, v] of Object.entries(m.gives ?? {}) as [Fact, true | string[]][]) {
      given.add(fact);
      if (Array.isArray(v)) {
        const set = accepted.get(fact) ?? new Set<string>();
        v.forEach((x) => set.add(norm(x)));
        accepted.set(fact, set);
      }
    }
    interrupt = undefined;
    const r = await engine.handleTurn({ sessionId, userId: `eval-${persona.name}`, platform: 'eval', text: m.say });
    if (r.outcome !== 'answered') throw new Error(`${persona.file}: message ${i + 1} was not answered (${r.outcome})`);
    const open = await store.open<{ slots: Record<string, string> }>(sessionId);
    const now = { ...(open.record?.state.slots ?? {}) };
    await store.release(open);
    const problems: string[] = [];

    // The safety protocol's texts are fixed and reviewed: they repeat by design, and are counted apart.
    const safety = r.kind === 'crisis' || r.kind === 'check_in' || r.kind === 'safety';
    if (safety) score.safety++;
    else if (replies.slice(-REPEAT_WINDOW).includes(r.reply)) {
      score.repeats++;
      problems.push('repeat');
    }
    replies.push(r.reply);
    for (const fact of given) {
      if (r.action && asks.get(FACT_CRITERIA[fact])?.has(r.action)) {
        score.reasks++;
        problems.push(`re-ask:${fact}`);
      }
    }
    for (const slot of SLOT_FACTS) {
      const value = now[slot];
      if (value === undefined || value === slots[slot]) continue;
      if (isFragment(value)) {
        score.fragments++;
        problems.push(`fragment:${slot}=${value}`);
      } else if (!accepted.get(slot)?.has(norm(value))) {
        score.slotErrors++;
        problems.push(`slot:${slot}=${value}`);
      }
    }
    if (/\{[a-z_]+\}/.test(r.reply)) {
      score.slotErrors++;
      problems.push('unfilled-slot');
    }
    if (interrupt) score.interrupts++;
    const capped = r.reply.includes(capLine);
    if (capped) score.caps++;
    slots = now;
    transcript.push({ say: m.say, reply: r.reply, substate: r.substate, action: r.action, interrupt, capped, slots: now, problems });
    if (terminal.has(r.substate)) {
      turnsToEnd = i + 1;
      break;
    }
  }
  const cooperativeGoal = persona.cooperative && turnsToEnd !== undefined ? turnsToEnd <= GOAL_FACTOR * minTurns : undefined;
  return {
    name: persona.name,
    file: persona.file,
    cooperative: persona.cooperative,
    messages: persona.messages.length,
    reachedEnd: turnsToEnd !== undefined,
    turnsToEnd,
    minTurns,
    withinGoal: persona.cooperative ? (cooperativeGoal ?? false) : undefined,
    ...score,
    endedIn: transcript[transcript.length - 1]?.substate ?? '',
    transcript,
  };
}

export function totals(scores: readonly PersonaScore[]): EvalTotals {
  const sum = (f: (s: PersonaScore) => number) => scores.reduce((n, s) => n + f(s), 0);
  return {
    personas: scores.length,
    reachedEnd: sum((s) => (s.reachedEnd ? 1 : 0)),
    cooperative: sum((s) => (s.cooperative ? 1 : 0)),
    cooperativeWithinGoal: sum((s) => (s.withinGoal ? 1 : 0)),
    turnsToEnd: sum((s) => s.turnsToEnd ?? 0),
    repeats: sum((s) => s.repeats),
    reasks: sum((s) => s.reasks),
    slotErrors: sum((s) => s.slotErrors),
    fragments: sum((s) => s.fragments),
    interrupts: sum((s) => s.interrupts),
    caps: sum((s) => s.caps),
    safetyPersonas: sum((s) => (s.safety > 0 ? 1 : 0)),
  };
}

/** Totals where higher is better; the rest must not rise. */
const HIGHER_IS_BETTER: readonly (keyof EvalTotals)[] = ['reachedEnd', 'cooperativeWithinGoal'];
/** Totals that describe the run rather than its quality (not compared). */
const DESCRIPTIVE: readonly (keyof EvalTotals)[] = ['personas', 'cooperative', 'turnsToEnd', 'interrupts', 'caps', 'safetyPersonas'];

/** What got worse than the baseline, one line each (empty when nothing did). */
export function worseThan(now: EvalTotals, baseline: EvalTotals): string[] {
  const out: string[] = [];
  for (const key of Object.keys(baseline) as (keyof EvalTotals)[]) {
    if (DESCRIPTIVE.includes(key)) continue;
    const worse = HIGHER_IS_BETTER.includes(key) ? now[key] < baseline[key] : now[key] > baseline[key];
    if (worse) out.push(`${key}: ${now[key]} (baseline ${baseline[key]})`);
  }
  return out;
}
