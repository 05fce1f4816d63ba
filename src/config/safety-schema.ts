/**
 * safety_protocol.json: the fixed, reviewed crisis response, the check-in for possible risk,
 * the release rule, and the lines a person reads about safety alerts. Never overridden by a
 * tenant or an experiment; what counts as risk is risk_grammar.json's (risk-grammar-schema.ts).
 */
import { z } from 'zod';

const id = z.string().min(1);
const phrase = z.string().min(1).max(200);
const phraseList = z.array(phrase).min(1);

export const SafetyConfigSchema = z
  .object({
    version: id,
    description: z.string().optional(),
    response: z.string().min(20),
    release: z
      .object({
        description: z.string().optional(),
        safe_statements_required: z.number().int().min(1),
        safe_statements: phraseList,
        /** Cues that, right before a safe statement ("I'm not safe", "can't promise I won't..."), cancel it. */
        negated_by: z.array(phrase).default([]),
        /** A cue of several words may stand this many words before the safe statement. Default 2. */
        max_gap_words: z.number().int().min(0).max(5).default(2),
        denials: phraseList,
      })
      .strict(),
    /**
     * The possible-risk tier: a fixed check-in that asks directly (carrying the crisis lines).
     * Yes, unclear or a further possible risk -> the crisis response; a clear no -> the
     * conversation goes on where it was, and a possible risk within `escalate_within_turns`
     * after that no goes straight to the crisis response.
     */
    check_in: z
      .object({
        description: z.string().optional(),
        message: z.string().min(20),
        after_no: z.string().min(1),
        escalate_within_turns: z.number().int().min(0).max(100).default(10),
        answers: z.object({ yes: phraseList, no: phraseList }).strict(),
      })
      .strict(),
    lines: z
      .object({
        after_denial: z.string().min(1),
        after_safe_statement: z.string().min(1),
        still_in_safety: z.string().min(1),
        released: z.string().min(1),
      })
      .strict(),
    /**
     * Safety alerts (docs/safety-alerts.md): the reviewed lines a person reads when a human
     * has been (or cannot be) told. `{team}` is the tenant's configured name.
     */
    alerts: z
      .object({
        description: z.string().optional(),
        /** Added to the crisis response when an alert went out for this episode. */
        told: z.string().min(1),
        /** `human`, an alert sent. */
        human_sent: z.string().min(1),
        /** `human` again while the first request is not yet taken. */
        human_open: z.string().min(1),
        /** `human` with no one to alert (nothing configured): never claims someone was told. */
        human_unavailable: z.string().min(1),
      })
      .strict(),
  })
  .strict();

export type SafetyConfig = z.infer<typeof SafetyConfigSchema>;
