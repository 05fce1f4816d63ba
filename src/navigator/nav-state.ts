/**
 * The navigator's state, apart from the navigator so its helpers can name it without a cycle:
 * its shape, its one canonical form, and where a session goes when the config lost its substate.
 */
import type { Substate } from '../config/schemas.js';

/** The navigator's part of a session's state. Plain JSON. */
export interface NavState {
  substate: string;
  /** Criteria met in the current substate. */
  criteriaMet: string[];
  /** Turns in the current substate without progress. */
  attempts: number;
  /** Times each interrupt fired in the current substate. */
  interruptCounts: Record<string, number>;
  /** Substates left so far, in order (for status and analytics). */
  completed: string[];
  /** Criteria of later substates the person already answered (counted when their substate comes). */
  ahead?: string[] | undefined;
  /** Criteria met here without being asked, not yet acknowledged (said when their question is skipped). */
  unasked?: string[] | undefined;
  /** The action of the last reply (an explanation never follows an explanation; `again` follows an ask). */
  lastAction?: string | undefined;
}

/**
 * A NavState with every field, in one order, and no empty lists (they are left out of the stored
 * JSON): one object shape for the engine's hot path, whatever the turn did.
 */
export function navState(n: NavState): NavState {
  return {
    substate: n.substate,
    criteriaMet: n.criteriaMet,
    attempts: n.attempts,
    interruptCounts: n.interruptCounts,
    completed: n.completed,
    ahead: n.ahead && n.ahead.length > 0 ? n.ahead : undefined,
    unasked: n.unasked && n.unasked.length > 0 ? n.unasked : undefined,
    lastAction: n.lastAction,
  };
}

/**
 * Where a session goes when this config no longer has its substate (an override or a
 * release removed it): the next substate after the most recent one it completed that
 * still exists, else `initial`. Progress through substates that exist is kept.
 */
export function relocated(state: NavState, substates: ReadonlyMap<string, Substate>, initial: NavState): NavState {
  const completed = state.completed.filter((id) => substates.has(id));
  for (let i = state.completed.length - 1; i >= 0; i--) {
    const id = state.completed[i]!;
    const sub = substates.get(id);
    if (!sub) continue;
    const target = sub.next && substates.has(sub.next) ? sub.next : id;
    return { substate: target, criteriaMet: [], attempts: 0, interruptCounts: {}, completed: completed.filter((c) => c !== target) };
  }
  return { ...initial, completed };
}
