/**
 * What may pass the Discord edge: zod schemas for the gateway dispatches the bot acts on,
 * checked on the raw payload before discord.js builds anything from it and before any
 * session id is built (gateway-guard.ts runs them; docs/discord-input.md says why raw).
 *
 *   MESSAGE_CREATE      every one is checked: the listeners read id, channel_id, guild_id,
 *                       author (id, bot), content, type and mentions even to decide that a
 *                       message is not theirs (DMs, threads the bot owns, a mention)
 *   INTERACTION_CREATE  the envelope (id, application_id, type, token) always; the whole
 *                       shape only for what the bot acts on: `/trt` as a chat-input command,
 *                       and a safety alert's "I'm on it" button (a component whose custom id
 *                       starts `safety_ack`). Other interactions go on to discord.js and are
 *                       answered there as "not handled".
 *
 * Only fields the adapter reads (or that decide whether discord.js emits at all) are
 * checked; unknown fields pass untouched, since Discord adds fields all the time. The
 * original payload goes on, never the parsed copy (z.object strips unknown keys).
 *
 * A reason names a schema path and a zod issue code, never a value: paths are made of
 * schema keys and array indices only (no z.record, no strict objects, whose issues would
 * name a key from the payload).
 */
import { z } from 'zod';
import { ACK_ACTION } from '../../src/index.js';

/** Discord ids: a uint64 in decimal, 17 to 20 digits (ASCII digits only: `\d` without the u flag). */
export const Snowflake = z.string().regex(/^\d{17,20}$/);
export const isSnowflake = (v: unknown): v is string => typeof v === 'string' && /^\d{17,20}$/.test(v);

/**
 * Discord's message limit is 2,000 characters, 4,000 with Nitro. Counted in code points,
 * the lenient reading (an emoji is one code point but two UTF-16 units); the length check
 * in UTF-16 units comes first and stops there, so a 1 MB string is never spread.
 */
export const CONTENT_MAX = 4000;
const codePoints = (s: string): number => {
  let n = 0;
  for (const _ of s) n++;
  return n;
};
export const Content = z
  .string()
  .max(CONTENT_MAX * 2, { abort: true })
  .check((ctx) => {
    if (codePoints(ctx.value) > CONTENT_MAX) ctx.issues.push({ code: 'too_big', origin: 'string', maximum: CONTENT_MAX, inclusive: true, input: ctx.value });
  });

/** Message types: an integer (Discord adds types; an unknown one is ignored by the listeners, not dropped). */
const MessageTypeNumber = z.int().min(0).max(255);

const Author = z.object({
  id: Snowflake,
  bot: z.boolean().optional(),
  /** Used for the thread's name (Discord allows 32 characters; a bound with room). */
  username: z.string().max(100).optional(),
});

/** A MESSAGE_CREATE's `d`, as far as the adapter reads it. */
export const MessageCreate = z.object({
  id: Snowflake,
  channel_id: Snowflake,
  /** Absent in a DM; never null. */
  guild_id: Snowflake.optional(),
  author: Author,
  content: Content,
  type: MessageTypeNumber,
  /** discord.js throws on a bitfield it cannot read. */
  flags: z.int().min(0).optional(),
  /** Sent with DMs; discord.js builds the uncached DM channel from it. */
  channel_type: z.int().min(0).max(255).optional(),
  /** A mention of the bot opens a thread (Discord caps a message's mentions well below this). */
  mentions: z.array(z.object({ id: Snowflake })).max(500).optional(),
});

/** Interaction tokens go into REST paths as they are: URL-safe characters only, bounded. */
export const InteractionToken = z.string().regex(/^[A-Za-z0-9._-]{1,1000}$/);

/** What every interaction needs before anything can answer it. */
const InteractionEnvelope = z.object({
  id: Snowflake,
  application_id: Snowflake,
  type: z.int().min(1).max(255),
  token: InteractionToken,
});

export const SUBCOMMANDS = ['help', 'status', 'summary', 'breathe', 'human', 'reset', 'forget'] as const;

/** `/trt <subcommand>` as a chat-input command, as far as the adapter reads it. */
export const TrtCommand = InteractionEnvelope.extend({
  type: z.literal(2),
  channel_id: Snowflake,
  guild_id: Snowflake.optional(),
  /** In a DM, `user`; in a server, `member.user`. */
  user: z.object({ id: Snowflake }).optional(),
  member: z.object({ user: z.object({ id: Snowflake }) }).optional(),
  data: z.object({
    name: z.literal('trt'),
    type: z.literal(1),
    options: z.array(z.object({ name: z.enum(SUBCOMMANDS), type: z.literal(1) })).max(1).optional(),
  }),
}).check((ctx) => whoIsThere(ctx));

/** In a DM the interaction's person is `user`, in a server `member.user`: the one that applies must be there. */
function whoIsThere(ctx: { value: { guild_id?: string | undefined; user?: unknown; member?: unknown }; issues: z.core.$ZodRawIssue[] }): void {
  const v = ctx.value;
  const who = v.guild_id === undefined ? 'user' : 'member';
  if (v[who] === undefined) ctx.issues.push({ code: 'invalid_type', expected: 'object', path: [who], input: undefined });
}

/**
 * A press of a safety alert's "I'm on it" button (alert-buttons.ts): a button (component type
 * 2) whose custom id is `safety_ack:ep_<16 hex>`, on a message, by a person with a snowflake id.
 * What the handler reads is all here: a forged or broken one never reaches the alert queue.
 */
export const AlertButton = InteractionEnvelope.extend({
  type: z.literal(3),
  channel_id: Snowflake,
  guild_id: Snowflake.optional(),
  user: z.object({ id: Snowflake }).optional(),
  member: z.object({ user: z.object({ id: Snowflake }) }).optional(),
  message: z.object({ id: Snowflake, channel_id: Snowflake }),
  data: z.object({
    component_type: z.literal(2),
    custom_id: z.string().regex(new RegExp(`^${ACK_ACTION}:ep_[0-9a-f]{16}$`)),
  }),
}).check((ctx) => whoIsThere(ctx));

/** Interaction types discord.js builds (and that Discord wants answered): command, component, autocomplete, modal. */
export const ANSWERED_TYPES = new Set([2, 3, 4, 5]);

export type Verdict = { kind: 'pass'; eventId: string } | { kind: 'drop'; reason: string; eventId?: string | undefined };

/** An interaction's verdict, with what is needed to answer it when it is dropped. */
export type InteractionVerdict =
  | { kind: 'pass'; eventId: string; answer: { id: string; token: string; type: number } }
  | { kind: 'drop'; reason: string; eventId?: string | undefined; answer?: { id: string; token: string; type: number } | undefined };

/** Where a zod check failed, without the value: `author.id: invalid_format`. */
export function reasonOf(err: z.ZodError): string {
  const issue = err.issues[0];
  if (!issue) return 'invalid';
  const path = issue.path.map(String).join('.') || '(body)';
  return `${path.slice(0, 80)}: ${issue.code}`;
}

const idOf = (d: unknown): string | undefined => {
  const id = d !== null && typeof d === 'object' ? (d as { id?: unknown }).id : undefined;
  return isSnowflake(id) ? id : undefined;
};

export function classifyMessage(d: unknown): Verdict {
  const m = MessageCreate.safeParse(d);
  return m.success ? { kind: 'pass', eventId: m.data.id } : { kind: 'drop', reason: reasonOf(m.error), eventId: idOf(d) };
}

export function classifyInteraction(d: unknown): InteractionVerdict {
  const env = InteractionEnvelope.safeParse(d);
  if (!env.success) return { kind: 'drop', reason: reasonOf(env.error), eventId: idOf(d) };
  const { id, token, type } = env.data;
  const answer = { id, token, type };
  const data = (d as { data?: unknown }).data;
  const named = data !== null && typeof data === 'object' ? (data as { name?: unknown; type?: unknown; custom_id?: unknown }) : undefined;
  // Ours: a command named trt. A trt that is not a well-formed chat-input command is dropped
  // (and answered); every other interaction is someone else's shape and goes on.
  if (type === 2 && named?.name === 'trt') {
    const c = TrtCommand.safeParse(d);
    return c.success ? { kind: 'pass', eventId: id, answer } : { kind: 'drop', reason: reasonOf(c.error), eventId: id, answer };
  }
  // Ours too: a component whose custom id claims to be an alert button (any type: a select
  // menu or a modal carrying it is forged, and dropped; answered as not handled).
  if (typeof named?.custom_id === 'string' && named.custom_id.startsWith(ACK_ACTION)) {
    const c = AlertButton.safeParse(d);
    return c.success ? { kind: 'pass', eventId: id, answer } : { kind: 'drop', reason: reasonOf(c.error), eventId: id, answer };
  }
  return { kind: 'pass', eventId: id, answer };
}
