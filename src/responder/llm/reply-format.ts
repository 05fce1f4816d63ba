/**
 * What the model must answer: `{risk, criteria_met, action, reply}`, in that order.
 * `risk` is the model's second opinion on the crisis check: when true, the engine gives
 * the fixed crisis response and enters the safety state; the reply is never used.
 * The JSON schema (sent as `response_format`) narrows the criteria and actions to
 * this turn's choices; zod checks the answer again, because not every
 * OpenAI-compatible server enforces a schema. An answer is only usable when its
 * action is the one the navigator takes for the criteria it names.
 */
import { z } from 'zod';
import type { StepPlan } from '../responder.js';

export interface ModelReply {
  risk: boolean;
  criteria: string[];
  action: string;
  reply: string;
}

export type ReplyCheck = { ok: true; value: ModelReply } | { ok: false; reason: 'malformed' | 'schema' | 'wrong_step' };

/** The `response_format` for this turn (OpenAI structured outputs, strict). */
export function replyResponseFormat(plan: StepPlan, mode: 'json_schema' | 'json_object') {
  if (mode === 'json_object') return { type: 'json_object' as const };
  const actions = [...new Set(plan.choices.map((c) => c.action))];
  const criterion = plan.missing.length > 0 ? { type: 'string', enum: plan.missing } : { type: 'string' };
  return {
    type: 'json_schema' as const,
    json_schema: {
      name: 'guide_reply',
      strict: true,
      schema: {
        type: 'object',
        properties: {
          risk: { type: 'boolean' },
          criteria_met: { type: 'array', items: criterion },
          action: { type: 'string', enum: actions },
          reply: { type: 'string' },
        },
        required: ['risk', 'criteria_met', 'action', 'reply'],
        additionalProperties: false,
      },
    },
  };
}

const ReplySchema = z.object({
  risk: z.boolean(),
  criteria_met: z.array(z.string()),
  action: z.string().min(1),
  reply: z.string().refine((s) => s.trim().length > 0, 'empty reply'),
});

/**
 * Parses and validates a complete answer against this turn's plan. `escalates` spots a reply
 * that talks about crisis resources: the model saw a risk, whatever its flag or step says.
 */
export function checkReply(content: string, plan: StepPlan, escalates: (reply: string) => boolean = () => false): ReplyCheck {
  let raw: unknown;
  try {
    raw = JSON.parse(stripFence(content));
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  const parsed = ReplySchema.safeParse(raw);
  if (!parsed.success) return { ok: false, reason: 'schema' };
  // A risk flag stands whatever else the answer says: the reply is not used.
  if (parsed.data.risk || escalates(parsed.data.reply)) return { ok: true, value: { risk: true, criteria: [], action: plan.choices[0]!.action, reply: '' } };
  const head = checkHead(parsed.data.criteria_met, parsed.data.action, plan);
  if (!head.ok) return head;
  return { ok: true, value: { ...head.value, risk: false, reply: parsed.data.reply.trim() } };
}

/** The criteria and action, before the reply is complete (streaming). */
export function checkHead(criteria: readonly unknown[], action: unknown, plan: StepPlan): { ok: true; value: Omit<ModelReply, 'reply' | 'risk'> } | { ok: false; reason: 'schema' | 'wrong_step' } {
  if (typeof action !== 'string' || !criteria.every((c): c is string => typeof c === 'string' && plan.missing.includes(c))) return { ok: false, reason: 'schema' };
  const unique = [...new Set(criteria)];
  if (plan.actionFor(unique) !== action) return { ok: false, reason: 'wrong_step' };
  return { ok: true, value: { criteria: unique, action } };
}

/** Some local models wrap JSON in a Markdown fence even in JSON mode. */
function stripFence(content: string): string {
  const m = /^\s*```(?:json)?\s*([\s\S]*?)\s*```\s*$/.exec(content);
  return m ? m[1]! : content;
}
