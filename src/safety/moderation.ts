/**
 * OpenAI's moderation endpoint (POST /v1/moderations) as a further opinion on self-harm
 * risk. One request per check, never retried (a retry would only make the opinion later),
 * bounded by its own deadline: the client's timeout stops waiting once headers arrive, so a
 * body that stalls after them is cut off here too. Every failure is a code, mapped from the
 * `openai` error classes and status codes, never from message text; the text is never logged.
 */
import OpenAI from 'openai';
import { z } from 'zod';
import { MODERATION_DEFAULT_MODEL, MODERATION_DEFAULT_TIMEOUT_MS, type Settings } from '../config/settings.js';
import { noOpinion, type RiskOpinion, type RiskOpinionError, type RiskOpinionResult } from './opinion.js';
import { raced } from '../util/raced.js';

/** MODERATION=on, or `auto` with OPENAI_API_KEY (a base URL alone: local servers have no moderation endpoint). */
export function moderationEnabled(s: Pick<Settings, 'MODERATION' | 'OPENAI_API_KEY'>): boolean {
  return s.MODERATION === 'on' || (s.MODERATION === 'auto' && Boolean(s.OPENAI_API_KEY));
}

export interface OpenAiModerationOptions {
  /** Built by the caller with the responder's key and base URL; its retries and timeout are overridden per request. */
  client: OpenAI;
  /** Default `omni-moderation-latest`. */
  model?: string | undefined;
  /** Longest one check takes, in ms (a positive integer). Default 1500. */
  timeoutMs?: number | undefined;
}

/** A category that flags; intent and instructions mean a crisis, plain self-harm less. */
const SELF_HARM = 'self-harm';
const CRISIS = ['self-harm/intent', 'self-harm/instructions'] as const;

/** The part of the answer read: the three self-harm categories must be there, as booleans. */
const Answer = z.object({
  results: z
    .array(
      z.object({
        categories: z.looseObject({ [SELF_HARM]: z.boolean(), [CRISIS[0]]: z.boolean(), [CRISIS[1]]: z.boolean() }),
      }),
    )
    .min(1),
});

export class OpenAiModeration implements RiskOpinion {
  readonly name: string;
  readonly model: string;
  readonly timeoutMs: number;
  private readonly client: OpenAI;

  constructor(o: OpenAiModerationOptions) {
    this.client = o.client;
    this.model = o.model ?? MODERATION_DEFAULT_MODEL;
    this.timeoutMs = o.timeoutMs ?? MODERATION_DEFAULT_TIMEOUT_MS;
    if (!Number.isInteger(this.timeoutMs) || this.timeoutMs <= 0) throw new RangeError(`timeoutMs must be a positive integer (got ${this.timeoutMs})`);
    this.name = `openai (${this.model})`;
  }

  async check(text: string, signal?: AbortSignal): Promise<RiskOpinionResult> {
    if (signal?.aborted) return noOpinion('aborted');
    const deadline = AbortSignal.timeout(this.timeoutMs);
    const stop = signal ? AbortSignal.any([deadline, signal]) : deadline;
    try {
      // The combined signal aborts the HTTP request itself, not only our wait for it.
      const work = this.client.moderations.create({ model: this.model, input: text }, { signal: stop, timeout: this.timeoutMs, maxRetries: 0 });
      return verdict(await raced(work, stop));
    } catch (err) {
      return noOpinion(reason(err, deadline, signal));
    }
  }
}

function verdict(body: unknown): RiskOpinionResult {
  // A proxy's HTML page arrives as a string, an empty body as undefined: neither is an answer.
  const parsed = Answer.safeParse(body);
  if (!parsed.success) return noOpinion('malformed');
  const categories = parsed.data.results[0]!.categories as Record<string, unknown>;
  const crisis = CRISIS.some((c) => categories[c] === true);
  const flagged = crisis || categories[SELF_HARM] === true;
  return {
    flagged,
    kind: crisis ? 'crisis' : flagged ? 'self_harm' : null,
    categories: Object.keys(categories).filter((c) => categories[c] === true),
  };
}


function reason(err: unknown, deadline: AbortSignal, caller: AbortSignal | undefined): RiskOpinionError {
  if (caller?.aborted) return 'aborted';
  if (deadline.aborted || err instanceof OpenAI.APIConnectionTimeoutError) return 'timeout';
  if (err instanceof OpenAI.APIError && typeof err.status === 'number') {
    if (err.status === 429) return 'rate_limited';
    if (err.status >= 500) return 'server_error';
    return 'http_error';
  }
  if (err instanceof OpenAI.APIConnectionError) return 'connection';
  // A body that is not JSON although it says so.
  if (err instanceof SyntaxError) return 'malformed';
  // Anything else comes from reading the answer (e.g. undici's "terminated" when the
  // connection drops mid-body): the answer did not arrive.
  return 'connection';
}
