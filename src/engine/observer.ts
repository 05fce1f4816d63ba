/**
 * Turn events for metrics and analytics. Events carry ids, labels and
 * timings, never message text, so counting crisis referrals stores no text.
 */
import type { LlmEvent } from '../responder/llm/llm-event.js';

/** `check_in`: the fixed question asked for a possible risk. */
export type TurnKind = 'reply' | 'crisis' | 'check_in' | 'safety' | 'command' | 'too_long' | 'unavailable';

export interface TurnEvent {
  platform: string;
  /** Tenant name (tenants.json maps Slack teams and Discord guilds to names). */
  tenant: string | undefined;
  /** Experiment -> the arm this person is in. */
  experiments: Record<string, string>;
  /** The config version the turn ran on (base version plus overrides). */
  configVersion: string | undefined;
  /** Substates entered in this turn, in order (a new session's first one included): the funnel. */
  reached: string[];
  /** A terminal substate was entered: the stage is complete. */
  completed: boolean;
  kind: TurnKind;
  substate: string | undefined;
  action: string | undefined;
  interrupt: string | undefined;
  /** A crisis response with resources was given in this turn. */
  crisisReferral: boolean;
  /** The session was created by this turn. */
  newSession: boolean;
  durationMs: number;
}

export interface TurnObserver {
  turn(event: TurnEvent): void;
  /** Each LLM reply attempt: used, cached, or replaced by the offline line (and why). */
  llm?(event: LlmEvent): void;
}

/** In-process counters: turns by kind and crisis referrals. */
export class TurnCounters implements TurnObserver {
  readonly byKind = new Map<TurnKind, number>();
  crisisReferrals = 0;
  sessionsStarted = 0;
  /** LLM replies used, and offline lines standing in, by reason. */
  llmReplies = 0;
  readonly llmFallbacks = new Map<string, number>();

  turn(event: TurnEvent): void {
    this.byKind.set(event.kind, (this.byKind.get(event.kind) ?? 0) + 1);
    if (event.crisisReferral) this.crisisReferrals++;
    if (event.newSession) this.sessionsStarted++;
  }

  llm(event: LlmEvent): void {
    if (event.outcome === 'fallback') this.llmFallbacks.set(event.reason ?? 'error', (this.llmFallbacks.get(event.reason ?? 'error') ?? 0) + 1);
    else this.llmReplies++;
  }
}

/** One observer that tells each of several (metrics, analytics); undefined when there are none. */
export function composeObservers(...list: Array<TurnObserver | undefined>): TurnObserver | undefined {
  const all = list.filter((o): o is TurnObserver => o !== undefined);
  if (all.length <= 1) return all[0];
  return {
    turn: (e) => all.forEach((o) => o.turn(e)),
    llm: (e) => all.forEach((o) => o.llm?.(e)),
  };
}
