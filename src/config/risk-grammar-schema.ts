/**
 * The zod schema of `risk_grammar.json`: the crisis check's word classes, frames, scope
 * rules and context rules. Reviewed base config: no override can touch it (overrides
 * cannot name this file at all). The frame patterns are parsed here too, so a bad pattern
 * is reported with its file and JSON path like any other config problem.
 */
import { z } from 'zod';
import { parsePattern, PatternError } from '../safety/grammar/pattern.js';

const className = z.string().regex(/^[A-Z][A-Z0-9_]*$/, 'class names are UPPER_CASE');
// Grammar phrases hold alternatives ({a|b|c}), so they may run longer than plain phrases.
const phrase = z
  .string()
  .min(1)
  .max(1000)
  .refine((p) => !/\{[^}]*\{/.test(p), 'alternatives cannot nest: use a class and a frame instead');

export const RiskTierSchema = z.enum(['risk', 'possible']);
/** A frame's tier: `cue` frames only feed the context rules. */
const FrameTierSchema = z.enum(['risk', 'possible', 'cue']);
export const RiskKindSchema = z.enum(['crisis', 'self_harm']);

const FrameSchema = z
  .object({
    /** Stable id, reported by the eval command and in the check's reasons (never text). */
    id: z.string().regex(/^[a-z][a-z0-9_]*$/, 'frame ids are lower_snake_case'),
    description: z.string().optional(),
    /**
     * Elements apart by spaces: `CLASS` (a phrase of that class), `A|B` (either), `word` (that
     * token), `CLASS?` (optional), `~N` (up to N other tokens, not across a sentence break),
     * `~~N` (the same across sentence breaks), `$` (a clause break or the end of the message).
     */
    pattern: z.string().min(1),
    /** `risk`: the fixed crisis response. `possible`: the check-in that asks directly. `cue`: only for the context rules. */
    tier: FrameTierSchema,
    kind: RiskKindSchema.default('crisis'),
    /** A negation cue next to the match cancels it ("I'd never kill myself"). Default true. */
    negatable: z.boolean().default(true),
    /** Another subject just before the match cancels it ("she wants to die"). Default true. */
    self_only: z.boolean().default(true),
    /** Tails right after the match ("...die of embarrassment") void or soften it. Default true. */
    tails: z.boolean().default(true),
    /** Messages this frame must catch (tested). */
    examples: z.array(phrase).default([]),
  })
  .strict()
  .superRefine((f, ctx) => {
    try {
      parsePattern(f.pattern);
    } catch (err) {
      if (!(err instanceof PatternError)) throw err;
      ctx.addIssue({ code: 'custom', path: ['pattern'], message: err.message });
    }
  });

const TailSchema = z
  .object({
    class: className,
    /** The tail must start within this many tokens after the match. */
    within: z.number().int().min(0).max(5).default(0),
    /** `void`: the match does not count. `possible`: a risk frame becomes a check-in. */
    effect: z.enum(['void', 'possible']),
    /** Only for these frames (default: every frame with `tails`). */
    frames: z.array(z.string()).optional(),
    description: z.string().optional(),
  })
  .strict();

const ContextRuleSchema = z
  .object({
    id: z.string().regex(/^[a-z][a-z0-9_]*$/, 'rule ids are lower_snake_case'),
    description: z.string().optional(),
    /**
     * Frames (any tier; `model` for the model's possible risk) that must all have fired in this
     * message or the last `window` ones, this one bringing at least one.
     */
    all: z.array(z.string()).min(2),
    tier: RiskTierSchema,
    kind: RiskKindSchema.default('crisis'),
  })
  .strict();

export const RiskGrammarSchema = z
  .object({
    version: z.string().min(1),
    description: z.string().optional(),
    /** Word classes: phrases in the message's canonical form; `{a|b}` alternatives, `word+` regular inflections. */
    classes: z.record(className, z.object({ description: z.string().optional(), phrases: z.array(phrase).min(1) }).strict()),
    frames: z.array(FrameSchema).min(1),
    scope: z
      .object({
        /** Negation cues before a match (same clause, within `negation_window` tokens). */
        negation: className,
        /** Negation cues after a match ("...never crossed my mind"), within `negation_after_window` tokens. */
        negation_after: className,
        /** First-person subjects: the nearest subject before a match decides whose statement it is. */
        self_subject: className,
        /** Other subjects (third person, "you", things, characters): a match after one is not the person's. */
        other_subject: className,
        /** Words that end a clause for negation and subject scope, and that no frame gap crosses ("but", "before"). */
        clause_words: className,
        /** Idioms and topics ("die laughing", "suicide prevention"): a match overlapping one does not count. */
        mask: className,
        /** Joke markers anywhere in the message ("lol", "jk"): risk frames become check-ins. */
        soften: className.optional(),
        negation_window: z.number().int().min(0).max(6).default(3),
        negation_after_window: z.number().int().min(0).max(6).default(4),
        subject_window: z.number().int().min(1).max(12).default(6),
      })
      .strict(),
    tails: z.array(TailSchema).default([]),
    context: z
      .object({
        description: z.string().optional(),
        /** Earlier messages of the session whose cues count (cues are frame ids, never text). */
        window: z.number().int().min(0).max(10).default(3),
        rules: z.array(ContextRuleSchema).default([]),
      })
      .strict()
      .default({ window: 3, rules: [] }),
  })
  .strict()
  .superRefine((g, ctx) => {
    const known = new Set(Object.keys(g.classes));
    const need = (name: string, path: PropertyKey[]) => {
      if (!known.has(name)) ctx.addIssue({ code: 'custom', path, message: `class "${name}" is not defined` });
    };
    g.frames.forEach((f, i) => {
      let parsed;
      try {
        parsed = parsePattern(f.pattern);
      } catch {
        return; // reported by the frame's own check
      }
      for (const el of parsed) if (el.type === 'class') el.classes.forEach((c) => need(c, ['frames', i, 'pattern']));
    });
    const s = g.scope;
    for (const key of ['negation', 'negation_after', 'self_subject', 'other_subject', 'clause_words', 'mask'] as const) need(s[key], ['scope', key]);
    if (s.soften) need(s.soften, ['scope', 'soften']);
    const frameIds = new Set(g.frames.map((f) => f.id));
    g.tails.forEach((t, i) => {
      need(t.class, ['tails', i, 'class']);
      t.frames?.forEach((f, j) => {
        if (!frameIds.has(f)) ctx.addIssue({ code: 'custom', path: ['tails', i, 'frames', j], message: `frame "${f}" is not defined` });
      });
    });
    g.context.rules.forEach((r, i) =>
      r.all.forEach((f, j) => {
        if (f !== 'model' && !frameIds.has(f)) ctx.addIssue({ code: 'custom', path: ['context', 'rules', i, 'all', j], message: `frame "${f}" is not defined (or "model")` });
      }),
    );
    const ids = new Set<string>();
    g.frames.forEach((f, i) => {
      if (ids.has(f.id)) ctx.addIssue({ code: 'custom', path: ['frames', i, 'id'], message: `duplicate frame id "${f.id}"` });
      ids.add(f.id);
    });
  });

export type RiskGrammarConfig = z.output<typeof RiskGrammarSchema>;
export type RiskTier = z.output<typeof RiskTierSchema>;
export type RiskKind = z.output<typeof RiskKindSchema>;
