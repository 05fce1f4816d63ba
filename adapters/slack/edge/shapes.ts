/**
 * What may pass the Slack edge: zod schemas for the requests the bot acts on,
 * checked before Bolt sees a body and before any session id is built.
 *
 * `classify` sorts a parsed body into:
 *   dispatch  a shape the listeners handle (DM, mention, thread follow-up, /trt, App Home,
 *             a press of a safety alert's "I'm on it" button)
 *   reply     answered here at once (url_verification, ssl_check)
 *   ignore    normal traffic the bot does not act on (edits, bot messages, other event
 *             types, other interactive payloads, commands it does not own): 200, silently
 *   drop      malformed: 200 (Slack must not retry it) and one warn line with the reason
 *
 * Ids follow Slack's syntax (an upper-case prefix letter, then upper-case letters and
 * digits) with a length bound, and `ts` is Slack's `seconds.micros`: a 1 MB channel id can
 * never become a 2 MB Redis key, and a DM without a channel never becomes `slack:T1:undefined`.
 */
import { z } from 'zod';
import { ACK_ACTION } from '../../../src/index.js';

const id = (prefixes: string) => z.string().regex(new RegExp(`^[${prefixes}][A-Z0-9]{1,31}$`));
export const TeamId = id('TE');
export const ChannelId = id('CDG');
export const UserId = id('UWB');
/** Slack message timestamps: `1700000000.000100`. */
export const Ts = z.string().regex(/^\d{1,12}\.\d{1,9}$/);
/** Event ids: `Ev` then letters and digits. */
export const EventId = z.string().regex(/^Ev[A-Za-z0-9]{1,40}$/);
/** Slack caps a message at 40,000 characters; an edge bound a little above it. */
const Text = z.string().max(50_000);

/** Message subtypes that carry a person's words (the listeners answer these). */
export const TEXT_SUBTYPES = new Set(['file_share', 'thread_broadcast', 'me_message']);

/**
 * The schemas below are not passthrough: what is dispatched is the parsed object, holding
 * only the fields named here, so a junk field Bolt would read on its own (`channel: null`
 * on App Home crashed its conversation lookup) never reaches it.
 */
const Authorization = z.object({
  team_id: TeamId.nullable(),
  enterprise_id: id('E').nullable().optional(),
  user_id: UserId,
  is_bot: z.boolean(),
  is_enterprise_install: z.boolean().optional(),
});

const Envelope = z.object({
  token: z.string().max(200).optional(),
  type: z.literal('event_callback'),
  team_id: TeamId,
  api_app_id: z.string().regex(/^A[A-Z0-9]{1,31}$/).optional(),
  enterprise_id: id('E').nullable().optional(),
  is_enterprise_install: z.boolean().optional(),
  event_id: EventId,
  event_time: z.number().int().nonnegative().optional(),
  authorizations: z.array(Authorization).max(10).optional(),
  event: z.object({ type: z.string().max(100) }).passthrough(),
});

/** A person's message (message.im / .channels / .groups, app_mention): what the listeners read. */
const PersonMessage = z.object({
  type: z.enum(['message', 'app_mention']),
  user: UserId,
  text: Text,
  ts: Ts,
  thread_ts: Ts.optional(),
  event_ts: Ts.optional(),
  channel: ChannelId,
  channel_type: z.enum(['im', 'channel', 'group', 'mpim', 'app_home']).optional(),
  team: TeamId.optional(),
  subtype: z.string().max(100).optional(),
});

const HomeOpened = z.object({ type: z.literal('app_home_opened'), user: UserId, tab: z.string().max(100), channel: ChannelId.optional(), event_ts: Ts.optional() });

/** The /trt command's form fields (each exactly once: a repeated field arrives as an array). */
const Command = z.object({
  token: z.string().max(200).optional(),
  command: z.literal('/trt'),
  text: z.string().max(4000),
  team_id: TeamId,
  team_domain: z.string().max(200).optional(),
  enterprise_id: id('E').optional(),
  is_enterprise_install: z.enum(['true', 'false']).optional(),
  channel_id: ChannelId,
  channel_name: z.string().max(200).optional(),
  user_id: UserId,
  user_name: z.string().max(200).optional(),
  api_app_id: z.string().max(40).optional(),
  response_url: z.string().max(2000).url(),
  trigger_id: z.string().max(200).optional(),
});

/**
 * A press of a safety alert's "I'm on it" button (alert-actions.ts): exactly one button action,
 * ours, with a string value; who pressed it and in which channel (the answer to a second press
 * is an ephemeral there). The message and its blocks, the view and the state are not kept.
 */
const AckButton = z.object({
  type: z.literal('button'),
  action_id: z.literal(ACK_ACTION),
  value: z.string().max(100),
  block_id: z.string().max(255).optional(),
  action_ts: Ts.optional(),
});
const BlockActions = z.object({
  type: z.literal('block_actions'),
  token: z.string().max(200).optional(),
  api_app_id: z.string().regex(/^A[A-Z0-9]{1,31}$/).optional(),
  trigger_id: z.string().max(200).optional(),
  is_enterprise_install: z.boolean().optional(),
  team: z.object({ id: TeamId, domain: z.string().max(200).optional(), enterprise_id: id('E').optional() }).nullable(),
  enterprise: z.object({ id: id('E') }).nullable().optional(),
  user: z.object({ id: UserId, team_id: TeamId.optional() }),
  channel: z.object({ id: ChannelId }),
  container: z.object({ type: z.string().max(40), message_ts: Ts.optional(), channel_id: ChannelId.optional(), is_ephemeral: z.boolean().optional() }).optional(),
  actions: z.array(AckButton).length(1),
});

const UrlVerification = z.object({ type: z.literal('url_verification'), challenge: z.string().min(1).max(200) });

export type Verdict =
  | { kind: 'dispatch'; body: Record<string, unknown>; eventId?: string | undefined }
  | { kind: 'reply'; status: number; json?: unknown }
  | { kind: 'ignore'; why: string }
  | { kind: 'drop'; reason: string; eventId?: string | undefined };

/** Where a zod check failed, without the value: `event.user: invalid_type`. */
function reasonOf(err: z.ZodError): string {
  const issue = err.issues[0];
  if (!issue) return 'invalid';
  const path = issue.path.map(String).join('.') || '(body)';
  return `${path.slice(0, 80)}: ${issue.code}`;
}

function idIn(body: Record<string, unknown>): string | undefined {
  return EventId.safeParse(body.event_id).success ? (body.event_id as string) : undefined;
}

/** Sorts a parsed request body (JSON, or form fields with any `payload` already decoded). */
export function classify(body: unknown, form: boolean): Verdict {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return { kind: 'drop', reason: 'body is not an object' };
  const b = body as Record<string, unknown>;
  if (form) {
    if (b.ssl_check === '1') return { kind: 'reply', status: 200 };
    if ('payload' in b) return interactive(typeof b.payload === 'string' ? decode(b.payload) : undefined);
    if (typeof b.command === 'string' && b.command !== '/trt') return { kind: 'ignore', why: 'a command this bot does not own' };
    if (!('command' in b)) return { kind: 'drop', reason: 'form body without a command' };
    const c = Command.safeParse(b);
    return c.success ? { kind: 'dispatch', body: c.data } : { kind: 'drop', reason: reasonOf(c.error) };
  }
  if (b.type === 'url_verification') {
    const v = UrlVerification.safeParse(b);
    return v.success ? { kind: 'reply', status: 200, json: { challenge: v.data.challenge } } : { kind: 'drop', reason: reasonOf(v.error) };
  }
  if (b.type === 'block_actions') return interactive(b); // Socket Mode: interactive payloads arrive as objects
  if (b.type !== 'event_callback') return typeof b.type === 'string' ? { kind: 'ignore', why: 'a body type this bot does not handle' } : { kind: 'drop', reason: 'type: missing' };
  const eventId = idIn(b);
  const env = Envelope.safeParse(b);
  if (!env.success) return { kind: 'drop', reason: reasonOf(env.error), eventId };
  const event = env.data.event as Record<string, unknown>;
  switch (event.type) {
    case 'message':
    case 'app_mention': {
      // Not a person's words: edits, deletions, joins, bots (the listeners would ignore them too).
      if (typeof event.subtype === 'string' && !TEXT_SUBTYPES.has(event.subtype)) return { kind: 'ignore', why: 'message subtype' };
      if (event.bot_id !== undefined) return { kind: 'ignore', why: 'a bot message' };
      if (event.text === '' || (event.text === undefined && typeof event.user === 'string')) return { kind: 'ignore', why: 'no text' };
      const m = PersonMessage.safeParse(event);
      return m.success ? { kind: 'dispatch', body: { ...env.data, event: m.data }, eventId } : { kind: 'drop', reason: `event.${reasonOf(m.error)}`, eventId };
    }
    case 'app_home_opened': {
      const h = HomeOpened.safeParse(event);
      return h.success ? { kind: 'dispatch', body: { ...env.data, event: h.data }, eventId } : { kind: 'drop', reason: `event.${reasonOf(h.error)}`, eventId };
    }
    default:
      return { kind: 'ignore', why: 'an event type this bot does not handle' };
  }
}

/** A form's `payload` field: JSON, or undefined. */
function decode(raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * An interactive payload: a press of our alert button is checked strictly and dispatched (a
 * malformed one is dropped); anything else interactive (other buttons, views, shortcuts, a
 * payload that is not even an object) is ignored, as before the bot had a button.
 */
function interactive(p: unknown): Verdict {
  if (p === null || typeof p !== 'object' || Array.isArray(p)) return { kind: 'ignore', why: 'interactive payload' };
  const o = p as Record<string, unknown>;
  const ours = o.type === 'block_actions' && Array.isArray(o.actions) && o.actions.some((a: unknown) => a !== null && typeof a === 'object' && (a as Record<string, unknown>).action_id === ACK_ACTION);
  if (!ours) return { kind: 'ignore', why: 'interactive payload' };
  const parsed = BlockActions.safeParse(o);
  return parsed.success ? { kind: 'dispatch', body: parsed.data } : { kind: 'drop', reason: reasonOf(parsed.error) };
}
