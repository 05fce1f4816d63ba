/**
 * The safety protocol as a pure step function: given the session's safety state and this
 * message's assessment, the fixed reply (never model text) and the next safety state.
 * Returns null when the normal flow may run.
 *
 *   risk                      -> the crisis response; the safety state
 *   in the safety state       -> held until the release rule is met (denials never count)
 *   a check-in was asked      -> yes, unclear or more risk: the crisis response;
 *                                a clear no: back to the conversation where it was
 *   possible risk             -> the check-in (straight to the crisis response when it
 *                                comes again soon after a "no")
 */
import type { SafetyConfig } from '../config/schemas.js';
import type { RiskKind, SafetyAssessment } from './crisis-check.js';

export interface SafetyState {
  /** In the safety state: normal flow is suspended. */
  active: boolean;
  /** Explicit safe statements made since the last risk statement. */
  safeStatements: number;
  /** Risk statements over the session's life (a number, never the text). */
  referrals: number;
  /** The turn a check-in was asked at, while its answer is awaited. */
  checkInAt?: number | undefined;
  /** The turn a check-in was last answered with a clear no. */
  clearedAt?: number | undefined;
  /** Cues (frame ids, never text) of the session's last few messages, oldest first. */
  recent?: string[][] | undefined;
  /** The safety alert raised when this stay in the safety state began (its episode id), if one was. */
  episode?: string | undefined;
}

export const INITIAL_SAFETY: SafetyState = { active: false, safeStatements: 0, referrals: 0 };

/**
 * `referral`: the crisis response. `check_in`: the check-in question. `cleared`: a clear no to
 * it. `holding` and `released`: the safety state's release rule.
 */
export type SafetyEvent = 'referral' | 'check_in' | 'cleared' | 'released' | 'holding';

export interface SafetyOutcome {
  state: SafetyState;
  reply: string;
  event: SafetyEvent;
  /** Why a referral was made: the message itself, or the answer to a check-in. */
  reason?: 'risk' | 'check_in_confirmed' | 'repeated' | undefined;
  /** A referral's risk kind: the statement's, or the possible risk's that came back soon after a no. */
  kind?: RiskKind | undefined;
}

export interface SafetyTurn {
  /** The session's turn number (for "soon after a no"). */
  turn: number;
  /** The message is a chat command: a pending check-in waits for the next message. */
  command: boolean;
}

export function safetyStep(config: SafetyConfig, state: SafetyState, a: SafetyAssessment, t: SafetyTurn = { turn: 0, command: false }): SafetyOutcome | null {
  const referral = (reason: SafetyOutcome['reason'], kind: RiskKind | null = null): SafetyOutcome => ({
    state: { ...state, active: true, safeStatements: 0, referrals: state.referrals + 1, checkInAt: undefined },
    reply: config.response,
    event: 'referral',
    reason,
    ...(kind ? { kind } : {}),
  });
  if (a.risk) return referral('risk', a.risk);
  if (state.active) {
    // A message that both denies and states safety ("I'm fine, I'm safe") counts as the safe statement.
    if (a.safeStatement) {
      const safeStatements = state.safeStatements + 1;
      if (safeStatements >= config.release.safe_statements_required) {
        return { state: { ...state, active: false, safeStatements: 0, episode: undefined }, reply: config.lines.released, event: 'released' };
      }
      return { state: { ...state, safeStatements }, reply: config.lines.after_safe_statement, event: 'holding' };
    }
    const reply = a.denial ? config.lines.after_denial : config.lines.still_in_safety;
    return { state, reply, event: 'holding' };
  }
  if (state.checkInAt !== undefined && !t.command) {
    // Counsellors' rule: only a clear no ends the question; yes, "I don't know" or more risk do not.
    if (a.possible || a.answer !== 'no') return referral('check_in_confirmed');
    return { state: { ...state, checkInAt: undefined, clearedAt: t.turn }, reply: config.check_in.after_no, event: 'cleared' };
  }
  if (a.possible) {
    const soonAfterNo = state.clearedAt !== undefined && t.turn - state.clearedAt <= config.check_in.escalate_within_turns;
    if (soonAfterNo) return referral('repeated', a.possible);
    return { state: { ...state, checkInAt: t.turn }, reply: config.check_in.message, event: 'check_in' };
  }
  return null;
}
