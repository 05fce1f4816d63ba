/**
 * A further opinion on self-harm risk, beside the offline crisis check (which runs on
 * every message and decides on its own). An opinion can only add a flag the offline check
 * missed: it never delays or weakens that check, and a failed opinion is simply no flag.
 */
import type { CallFailure } from '../util/call-failure.js';

/** Why an opinion could not be had (a code, never message text). */
export type RiskOpinionError = CallFailure;

export interface RiskOpinionResult {
  /** The opinion sees a self-harm risk. */
  flagged: boolean;
  /** `crisis`: intent or instructions; `self_harm`: self-harm only; null when not flagged. */
  kind: 'crisis' | 'self_harm' | null;
  /** Category names the opinion reported true (any category, not only self-harm); names only, never text. */
  categories: string[];
  /** Set when no opinion could be had: then `flagged` is false and `kind` null. */
  error?: RiskOpinionError;
}

export interface RiskOpinion {
  /** For the start-up banner, e.g. `openai moderation (omni-moderation-latest)`. */
  readonly name: string;
  /**
   * Never throws, and settles within its own timeout (sooner when `signal` aborts):
   * a failure is `{ flagged: false, kind: null, categories: [], error }`.
   */
  check(text: string, signal?: AbortSignal): Promise<RiskOpinionResult>;
}

/** The result of a check that produced no opinion. */
export function noOpinion(error: RiskOpinionError): RiskOpinionResult {
  return { flagged: false, kind: null, categories: [], error };
}
