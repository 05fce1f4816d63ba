/**
 * safety_protocol.json: the fixed, reviewed crisis response, the check-in for possible risk,
 * the release rule, and the lines a person reads about safety alerts. Never overridden by a
 * tenant or an experiment; what counts as risk is risk_grammar.json's (risk-grammar-schema.ts).
 */
import { z } from 'zod';

const id = z.string().min(1);
const phrase = z.string().min(1).max(200);
const phraseList = z.array(phrase).min(1);

/** An ISO 3166-1 alpha-2 country code, upper case ("AU", "GB"). */
const countryCode = z.string().regex(/^[A-Z]{2}$/, 'a two-letter country code in upper case (ISO 3166-1 alpha-2)');
/** One crisis line as the person reads it: a bullet, like the crisis response's own lines. */
const crisisLine = z.string().regex(/^• \S/, 'a line starting with "• "').max(300);

/**
 * One country's crisis lines (src/safety/crisis-lines.ts puts them ahead of the generic ones).
 * Each entry names where its numbers were checked and when, so a reviewer can re-check them.
 */
const CountryResourcesSchema = z
  .object({
    /** The country as the person would say it ("Australia"), for `settings` and the emergency line. */
    name: z.string().min(1).max(60),
    /** How its lines name it when shorter than the name ("US", "UK"); the emergency line uses it. Default: name. */
    label: z.string().min(1).max(30).optional(),
    lines: z.array(crisisLine).min(1),
    /** The emergency number(s) to call in immediate danger ("000", "112 or 999"). */
    emergency: z.string().min(1).max(80),
    /** Where the lines were checked: the services' own pages or a health service's. */
    source: z.string().min(1),
    /** When they were last checked, YYYY-MM. */
    reviewed: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'YYYY-MM'),
  })
  .strict();

/**
 * Crisis lines per country (docs/safety.md, "Crisis lines per country"). The generic lines in the
 * texts themselves stay as they are and follow the person's country's lines.
 */
const ResourcesSchema = z
  .object({
    description: z.string().optional(),
    /** The country for people whose country neither they nor their platform told; absent: generic lines only. */
    default_country: countryCode.optional(),
    /** The bullet added after a country's lines: `{country}` its label (else name), `{emergency}` its emergency number. */
    emergency_line: z.string().regex(/^• /, 'a line starting with "• "').refine((t) => t.includes('{emergency}'), 'must name {emergency}'),
    countries: z.record(countryCode, CountryResourcesSchema),
  })
  .strict()
  .superRefine((r, ctx) => {
    if (r.default_country !== undefined && !(r.default_country in r.countries)) {
      ctx.addIssue({ code: 'custom', path: ['default_country'], message: `${r.default_country} has no entry in countries` });
    }
  });

export type CrisisResources = z.infer<typeof ResourcesSchema>;
export type CountryResources = z.infer<typeof CountryResourcesSchema>;

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
    /** Crisis lines per country, shown ahead of the generic ones in the texts above and in `help`. */
    resources: ResourcesSchema,
  })
  .strict();

export type SafetyConfig = z.infer<typeof SafetyConfigSchema>;
