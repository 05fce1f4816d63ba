/**
 * Persona scripts for the conversation evaluation (`npm run eval:conversations`): one JSON
 * file per persona under eval/personas/, each a list of messages with the facts they state
 * and, for the facts the guide quotes back, the values a careful reader would accept.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { z } from 'zod';

/** A fact a persona can state, and the navigator's criterion it answers. */
export const FACT_CRITERIA = {
  desired_feeling: 'goal_stated',
  vision_accepted: 'vision_accepted',
  permission_given: 'permission_given',
  education_understood: 'education_understood',
  problem: 'problem_named',
  body_location: 'body_location_found',
  sensation: 'sensation_described',
  felt_now: 'felt_now',
  trigger: 'pattern_noticed',
  ready: 'ready_to_continue',
  relaxation_done: 'relaxation_completed',
  body_after: 'body_compared',
} as const;
export type Fact = keyof typeof FACT_CRITERIA;

/** Facts whose words the guide quotes back: the slot of the same name. */
export const SLOT_FACTS = ['desired_feeling', 'problem', 'body_location', 'sensation', 'trigger', 'body_after'] as const;

const facts = Object.keys(FACT_CRITERIA) as [Fact, ...Fact[]];
const Gives = z
  .partialRecord(z.enum(facts), z.union([z.literal(true), z.array(z.string().min(1)).min(1)]))
  .superRefine((g, ctx) => {
    for (const [fact, v] of Object.entries(g)) {
      const slot = (SLOT_FACTS as readonly string[]).includes(fact);
      if (slot && v === true) ctx.addIssue({ code: 'custom', path: [fact], message: 'a quoted fact needs its accepted values' });
      if (!slot && v !== true) ctx.addIssue({ code: 'custom', path: [fact], message: 'this fact takes true' });
    }
  });

export const PersonaSchema = z
  .object({
    name: z.string().min(1),
    description: z.string().min(1),
    /** Answers each question plainly: held to finishing within 1.3x the minimum turns. */
    cooperative: z.boolean(),
    messages: z
      .array(z.object({ say: z.string().min(1), gives: Gives.optional(), soft: z.boolean().optional() }).strict())
      .min(12)
      .max(25),
  })
  .strict();
export type Persona = z.infer<typeof PersonaSchema> & { file: string };

export class PersonaError extends Error {}

/** Every persona file in `dir`, by file name; a malformed one names the file and the JSON path. */
export function loadPersonas(dir: string): Persona[] {
  const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
  if (files.length === 0) throw new PersonaError(`${dir}: no persona files (*.json)`);
  return files.map((f) => {
    const file = join(dir, f);
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new PersonaError(`${file}: ${(err as Error).message}`);
    }
    const parsed = PersonaSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const path = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
      throw new PersonaError(`${file}: $${path}: ${issue.message}`);
    }
    return { ...parsed.data, file: basename(file) };
  });
}
