/**
 * The safety protocol as a pure step function: given the session's safety
 * state and this message's assessment, the fixed reply (never model text)
 * and the next safety state. Returns null when the normal flow may run.
 */
import type { SafetyConfig } from '../config/schemas.js';
import type { SafetyAssessment } from './crisis-check.js';

export interface SafetyState {
  /** In the safety state: normal flow is suspended. */
  active: boolean;
  /** Explicit safe statements made since the last risk statement. */
  safeStatements: number;
  /** Risk statements over the session's life (a number, never the text). */
  referrals: number;
}

export const INITIAL_SAFETY: SafetyState = { active: false, safeStatements: 0, referrals: 0 };

export type SafetyEvent = 'referral' | 'released' | 'holding';

export interface SafetyOutcome {
  state: SafetyState;
  reply: string;
  event: SafetyEvent;
}

export function safetyStep(config: SafetyConfig, state: SafetyState, a: SafetyAssessment): SafetyOutcome | null {
  if (a.risk) {
    return {
      state: { active: true, safeStatements: 0, referrals: state.referrals + 1 },
      reply: config.response,
      event: 'referral',
    };
  }
  if (!state.active) return null;
  // A message that both denies and states safety ("I'm fine, I'm safe") counts as the safe statement.
  if (a.safeStatement) {
    const safeStatements = state.safeStatements + 1;
    if (safeStatements >= config.release.safe_statements_required) {
      return { state: { ...state, active: false, safeStatements: 0 }, reply: config.lines.released, event: 'released' };
    }
    return { state: { ...state, safeStatements }, reply: config.lines.after_safe_statement, event: 'holding' };
  }
  const reply = a.denial ? config.lines.after_denial : config.lines.still_in_safety;
  return { state, reply, event: 'holding' };
}
