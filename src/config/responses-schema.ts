/**
 * fallback_responses.json: what the bot says without an LLM (the action lines, with their
 * short variants for people who asked for short replies), the commands' and settings' lines,
 * the summary and the system lines. Split from schemas.ts, which had grown past 400 lines.
 */
import { z } from 'zod';

const id = z.string().min(1);
/** Each action's lines: one is chosen per turn (src/responder/offline-responder.ts). */
const actionLines = z.record(id, z.array(z.string().min(1)).min(1));

export const ResponsesConfigSchema = z
  .object({
    version: id,
    description: z.string().optional(),
    disclosure: z.string().min(20),
    actions: actionLines,
    /**
     * Short variants of some actions' lines (one or two sentences), for a person who asked for
     * short replies (`settings replies short`); an action without any here uses its `actions` lines.
     */
    short_actions: actionLines.default({}),
    commands: z
      .object({
        help: z.string().min(1),
        reset: z.string().min(1),
        status: z.string().min(1),
        status_progress: z.string().min(1),
        status_complete: z.string().min(1),
        forget_confirm: z.string().min(1),
        forget_done: z.string().min(1),
        forget_cancelled: z.string().min(1),
      })
      .strict(),
    /** The `settings` command's lines (engine/settings.ts); `{codes}`: the countries with crisis lines. */
    settings: z
      .object({
        show: z.string().min(1),
        country_chosen: z.string().min(1),
        country_platform: z.string().min(1),
        country_default: z.string().min(1),
        country_none: z.string().min(1),
        country_set: z.string().min(1),
        country_auto: z.string().min(1),
        invalid: z.string().min(1),
        replies_short: z.string().min(1),
        replies_normal: z.string().min(1),
        replies_short_word: z.string().min(1),
        replies_normal_word: z.string().min(1),
        checkins_set: z.string().min(1),
        checkins_quiet_note: z.string().min(1),
        checkins_off: z.string().min(1),
        checkins_on_word: z.string().min(1),
        checkins_off_word: z.string().min(1),
        checkins_need_zone: z.string().min(1),
        checkins_dm_only: z.string().min(1),
        checkins_unavailable: z.string().min(1),
        timezone_set: z.string().min(1),
        timezone_unknown_word: z.string().min(1),
        stop_nothing: z.string().min(1),
        /** The check-in itself, sent at the person's chosen time. */
        checkin_message: z.string().min(1),
      })
      .strict(),
    criteria_facts: z.record(id, z.string().min(1)).default({}),
    /** Said when the navigator skips a question because the person answered it earlier ("You mentioned your chest already."). */
    acknowledge: z.record(id, z.string().min(1)).default({}),
    /** Said instead when more than two questions are skipped at once (a list of acknowledgements reads as a form). */
    acknowledge_many: z.string().min(1).optional(),
    /** The `summary` command and the end of the stage: what the person found, in their own words, and what is open. */
    summary: z
      .object({
        /** {found}: the found facts joined. */
        found: z.string().min(1),
        nothing_yet: z.string().min(1),
        /** {open}: what is still open, joined. */
        open: z.string().min(1),
        complete: z.string().min(1),
        /** Criterion -> a phrase in the person's words (slots); dropped when a slot is unknown. */
        facts: z.record(id, z.string().min(1)),
        /** Criterion -> what it is, when still open. */
        open_facts: z.record(id, z.string().min(1)),
      })
      .strict()
      .optional(),
    system: z
      .object({
        too_long: z.string().min(1),
        unavailable: z.string().min(1),
        /** Said when whether a message was stored cannot be found out (true whichever way it went). */
        unsure: z.string().min(1),
        cap_move_on: z.string().min(1),
        /** The one reply a rate-limited person gets per window; `{wait}` is e.g. "about 40 seconds". */
        rate_limited: z.string().min(1),
      })
      .strict(),
    offline: z
      .object({
        use_examples_for: z.array(id).default([]),
        min_example_similarity: z.number().min(0).max(1).default(0.35),
      })
      .strict()
      .default({ use_examples_for: [], min_example_similarity: 0.35 }),
  })
  .strict()
  .superRefine((r, ctx) => {
    for (const action of Object.keys(r.short_actions)) {
      if (!r.actions[action]) ctx.addIssue({ code: 'custom', path: ['short_actions', action], message: `"${action}" has no lines in "actions"` });
    }
  });

export type ResponsesConfig = z.infer<typeof ResponsesConfigSchema>;
