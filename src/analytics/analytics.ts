/**
 * Usage analytics: counts per tenant and per experiment arm (sessions, turns,
 * substates reached, completions, crisis referrals, rate-limited messages).
 * Events carry names and flags only, never message text or user ids, so
 * nothing a person typed can reach the counters (shared/domain.md, Privacy).
 */

/** One turn, as the engine reports it (a subset of TurnEvent, so a TurnObserver can forward it as is). */
export interface AnalyticsTurn {
  /** Tenant name (already mapped from Slack team / Discord guild); undefined = none. */
  tenant: string | undefined;
  /** Experiment name -> arm this person is in (may be {}). */
  experiments: Record<string, string>;
  kind: 'reply' | 'crisis' | 'check_in' | 'safety' | 'command' | 'too_long' | 'unavailable';
  /** A crisis response with resources was given. */
  crisisReferral: boolean;
  /** The session was created by this turn. */
  newSession: boolean;
  /** Substates entered in this turn, in order (a new session: its first substate; a transition: the new one). */
  reached: readonly string[];
  /** Entered a terminal substate (the stage is complete). */
  completed: boolean;
}

/** A message refused by the rate limiter (counted, never processed). */
export interface AnalyticsLimited {
  tenant: string | undefined;
  experiments: Record<string, string>;
}

export interface Analytics {
  /** Counts one turn in memory; never awaits, never throws (it runs on the hot path). */
  turn(e: AnalyticsTurn): void;
  /** Counts one rate-limited message; never awaits, never throws. */
  limited(i: AnalyticsLimited): void;
  /** Writes what has been counted so far (a failed write keeps the counts for the next one). */
  flush(): Promise<void>;
  /** Flushes and stops the background timer; later events are ignored. */
  close(): Promise<void>;
}

/** The hash fields counted per bucket (`reached:<substate>` fields come on top, one per substate). */
export const COUNT_FIELDS = ['sessions', 'turns', 'completions', 'crisis_referrals', 'rate_limited'] as const;
export type CountField = (typeof COUNT_FIELDS)[number];
export const REACHED_PREFIX = 'reached:';

/** The fields one turn increments, in the order they are written. */
export function turnFields(e: AnalyticsTurn): string[] {
  const out: string[] = [];
  if (e.newSession) out.push('sessions');
  // An "unavailable" turn never ran (the store was down): the person got "try again shortly".
  if (e.kind !== 'unavailable') out.push('turns');
  for (const id of e.reached) out.push(`${REACHED_PREFIX}${id}`);
  if (e.completed) out.push('completions');
  if (e.crisisReferral) out.push('crisis_referrals');
  return out;
}

/** For setups without Redis: analytics switched off, at no cost. */
export const noAnalytics: Analytics = {
  turn() {},
  limited() {},
  flush: async () => {},
  close: async () => {},
};
