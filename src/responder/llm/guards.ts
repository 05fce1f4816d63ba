/**
 * Checks every LLM reply before anyone reads it: not empty, not too long, none of
 * the config's banned phrases (diagnoses, medication advice, claims to be a
 * clinician, talk about its instructions), and none of the prompt's markers. The
 * phrases are compiled once into the classifier's matcher, so they match the same
 * way classification phrases do.
 */
import { PhraseMatcher } from '../../classifier/matcher.js';
import type { LlmConfig } from '../../config/schemas.js';

export type GuardResult = { ok: true } | { ok: false; reason: string };

/** The prompt's delimiters: a reply containing them is echoing the prompt. */
const MARKER = /<<<|>>>/;

export class ReplyGuards {
  private readonly matcher: PhraseMatcher;
  private readonly maxChars: number;

  private readonly escalation: PhraseMatcher;

  constructor(guards: LlmConfig['guards']) {
    this.maxChars = guards.max_reply_chars;
    this.matcher = new PhraseMatcher(Object.entries(guards.banned).flatMap(([tag, phrases]) => phrases.map((phrase) => ({ phrase, tag, group: 0 }))));
    this.escalation = new PhraseMatcher(guards.escalate.map((phrase) => ({ phrase, tag: 'escalate', group: 0 })));
  }

  /** The reply talks about crisis resources: the model saw a risk, whatever its flag says. */
  escalates(text: string): boolean {
    return this.escalation.scan(text).matches.length > 0;
  }

  get maxReplyChars(): number {
    return this.maxChars;
  }

  /** The reason names the rule (e.g. `banned:medication`), never the text. */
  check(text: string): GuardResult {
    if (text.trim().length === 0) return { ok: false, reason: 'empty' };
    if (text.length > this.maxChars) return { ok: false, reason: 'too_long' };
    if (MARKER.test(text)) return { ok: false, reason: 'marker' };
    const hit = this.matcher.scan(text).matches[0];
    return hit ? { ok: false, reason: `banned:${hit.tag}` } : { ok: true };
  }
}
