/**
 * What the LLM responder reports about each attempt (the observer port's LLM half): types
 * only, so the observer, the metrics and analytics need not import the responder itself.
 */
import type { CallFailure } from '../../util/call-failure.js';

/** Why an LLM reply fell back to the offline line. */
/** `unreachable`: not tried, the server did not answer the last probe (see reachability.ts). */
export type FailureReason = CallFailure | 'schema' | 'wrong_step' | 'truncated' | 'refused' | 'guard' | 'budget' | 'context' | 'error' | 'unreachable';

/** One LLM reply attempt, for metrics: no text, only outcome, reason, tokens and time. */
export interface LlmEvent {
  /** `risk`: the model flagged a risk the crisis check missed (the fixed crisis response was given). */
  outcome: 'ok' | 'cached' | 'risk' | 'fallback';
  reason?: FailureReason | undefined;
  /** For guard failures, the rule (e.g. `banned:medication`). */
  rule?: string | undefined;
  latencyMs: number;
  promptTokens?: number | undefined;
  completionTokens?: number | undefined;
  streamed: boolean;
}
