/**
 * What the model must answer: `{risk, criteria_met, slots, action, reply}`, in
 * that order. `risk` is the model's second opinion on the crisis check: when
 * true, the engine gives the fixed crisis response and enters the safety state;
 * the reply is never used. `slots` holds the person's own words for what the
 * criteria it marks need (the feeling they want, where in the body…), copied
 * from their message: a quote that is not in the message is refused.
 *
 * The JSON schema (sent as `response_format`) narrows the criteria, slots and
 * actions to this turn's choices; zod checks the answer again, because not
 * every OpenAI-compatible server enforces a schema. An answer is only usable
 * when its action is the one the navigator takes for what it judged.
 */
import { z } from 'zod';
import { normalize } from '../../text/normalize.js';
import type { Judged, StepPlan } from '../responder.js';

export interface ModelReply {
  risk: boolean;
  criteria: string[];
  quotes: Record<string, string>;
  action: string;
  reply: string;
}

export type ReplyCheck = { ok: true; value: ModelReply } | { ok: false; reason: 'malformed' | 'schema' | 'wrong_step' };
type HeadCheck = { ok: true; value: Judged & { action: string } } | { ok: false; reason: 'schema' | 'wrong_step' };

/** Longest quote taken for a slot, in words. */
const MAX_QUOTE_WORDS = 12;

/** The `response_format` for this turn (OpenAI structured outputs, strict). */
export function replyResponseFormat(plan: StepPlan, mode: 'json_schema' | 'json_object') {
  if (mode === 'json_object') return { type: 'json_object' as const };
  const actions = [...new Set(plan.choices.map((c) => c.action))];
  const criterion = plan.missing.length > 0 ? { type: 'string', enum: plan.missing } : { type: 'string' };
  const names = plan.slots.map((s) => s.name);
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
          slots: { type: 'object', properties: Object.fromEntries(names.map((n) => [n, { type: 'string' }])), required: names, additionalProperties: false },
          action: { type: 'string', enum: actions },
          reply: { type: 'string' },
        },
        required: ['risk', 'criteria_met', 'slots', 'action', 'reply'],
        additionalProperties: false,
      },
    },
  };
}

const ReplySchema = z.object({
  risk: z.boolean(),
  criteria_met: z.array(z.string()),
  slots: z.record(z.string(), z.string()).default({}),
  action: z.string().min(1),
  reply: z.string().refine((s) => s.trim().length > 0, 'empty reply'),
});

/**
 * Parses and validates a complete answer against this turn's plan and the person's message.
 * `escalates` spots a reply that talks about crisis resources: the model saw a risk,
 * whatever its flag or step says.
 */
export function checkReply(content: string, plan: StepPlan, message: string, escalates: (reply: string) => boolean = () => false): ReplyCheck {
  let raw: unknown;
  try {
    raw = JSON.parse(stripFence(content));
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  const parsed = ReplySchema.safeParse(raw);
  if (!parsed.success) return { ok: false, reason: 'schema' };
  // A risk flag stands whatever else the answer says: the reply is not used.
  if (parsed.data.risk || escalates(parsed.data.reply)) return { ok: true, value: { risk: true, criteria: [], quotes: {}, action: plan.choices[0]!.action, reply: '' } };
  const head = checkHead(parsed.data, plan, message);
  if (!head.ok) return head;
  return { ok: true, value: { risk: false, criteria: [...head.value.criteria], quotes: { ...head.value.quotes }, action: head.value.action, reply: parsed.data.reply.trim() } };
}

/** The judgement and action, before the reply is complete (streaming). */
export function checkHead(answer: { criteria_met?: unknown; slots?: unknown; action?: unknown }, plan: StepPlan, message: string): HeadCheck {
  const { criteria_met: criteria, action } = answer;
  if (typeof action !== 'string' || !Array.isArray(criteria)) return { ok: false, reason: 'schema' };
  if (!criteria.every((c): c is string => typeof c === 'string' && plan.missing.includes(c))) return { ok: false, reason: 'schema' };
  const quotes: Record<string, string> = {};
  const given = answer.slots && typeof answer.slots === 'object' ? (answer.slots as Record<string, unknown>) : {};
  for (const { name } of plan.slots) {
    const quote = given[name];
    if (quote === undefined || quote === '') continue;
    if (typeof quote !== 'string' || !quotedFrom(quote, message)) return { ok: false, reason: 'schema' };
    quotes[name] = quote;
  }
  const judged = { criteria: [...new Set(criteria)], quotes };
  if (plan.actionFor(judged) !== action) return { ok: false, reason: 'wrong_step' };
  return { ok: true, value: { ...judged, action } };
}

/** The quote is words of the message (case, punctuation and spacing aside), and short. */
function quotedFrom(quote: string, message: string): boolean {
  const q = normalize(quote).trim();
  if (q.length === 0 || q.split(' ').length > MAX_QUOTE_WORDS) return false;
  return ` ${normalize(message).trim()} `.includes(` ${q} `);
}

/** Some local models wrap JSON in a Markdown fence even in JSON mode. */
function stripFence(content: string): string {
  const m = /^\s*```(?:json)?\s*([\s\S]*?)\s*```\s*$/.exec(content);
  return m ? m[1]! : content;
}
