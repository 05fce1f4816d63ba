/**
 * Slack listeners (the receiving side): map an event to a session and queue it;
 * a worker answers it (see outlet.ts). No conversation logic lives here.
 *
 * Handled: DMs (message.im), mentions (app_mention) and follow-ups in a thread
 * the bot is part of (message.channels / message.groups), the /trt command and
 * the App Home tab. Ignored: the bot's own and other bots' messages, and every
 * message subtype (edits, deletions, joins, file shares without text, ...).
 */
import type { App } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { ACK_WITHIN_MS, enqueueHonestly, errorCode } from '../../src/index.js';
import type { Engine, Logger, Marks, TurnQueue } from '../../src/index.js';
import { slackOrder } from '../common/platform-order.js';
import { placeOf, withoutMention } from './conversation.js';
import type { SlackDelivery } from './delivery.js';
import type { SlackReplyTo } from './outlet.js';
import type { SlackUserCountry } from './user-country.js';

export interface ListenerDeps {
  engine: Pick<Engine, 'handleTurn' | 'texts' | 'crisisResponse'>;
  marks: Marks;
  queue: TurnQueue;
  delivery: SlackDelivery;
  logger: Logger;
  /** Answer in channels (true) or only in DMs (false). */
  allowChannels: boolean;
  /** Where each user is, as Slack tells it (crisis lines for their country). */
  userCountry?: SlackUserCountry | undefined;
}

/** Message subtypes that carry a person's words (a file with text, "also send to channel", /me). */
const TEXT_SUBTYPES = new Set(['file_share', 'thread_broadcast', 'me_message']);
/** Slash commands must be acked within 3 s; answer later through response_url past this. */
const COMMAND_DEADLINE_MS = 2000;
/** Dedupe records outlive Slack's retries (up to three, over about an hour). */
const DEDUPE_TTL_SECONDS = 2 * 3600;
/** How long a channel thread stays "ours" after the bot last spoke in it (matches session retention roughly). */
const THREAD_TTL_SECONDS = 30 * 86_400;

/** Longest wait for Slack to say where a user is (once per user a day): the message goes on without it. */
const COUNTRY_WAIT_MS = 400;

/** Longest wait for a thread mark (Redis) before it counts as unknown: the acknowledgement cannot wait for a stalled Redis. */
const MARK_WAIT_MS = 700;

/** `p`'s value, or undefined when it fails or takes longer than `ms`. */
async function bounded<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), ms)));
  return Promise.race([p.catch(() => undefined), late]).finally(() => clearTimeout(timer));
}

const CHANNELS_OFF = "I only talk in direct messages, to keep what you share private. Please send me a DM.";

interface UserMessage {
  user?: string;
  bot_id?: string;
  subtype?: string;
  text?: string;
  ts: string;
  thread_ts?: string;
  channel: string;
  channel_type?: string;
  team?: string;
}

export function registerListeners(app: App, deps: ListenerDeps): void {
  app.message(async ({ message, context, client }) => {
    await onMessage(deps, message as unknown as UserMessage, context.teamId ?? '', context.botUserId, client, 'message');
  });
  app.event('app_mention', async ({ event, context, client }) => {
    await onMessage(deps, event as unknown as UserMessage, context.teamId ?? '', context.botUserId, client, 'app_mention');
  });

  app.command('/trt', async ({ command, ack, respond, client }) => {
    const sub = command.text.trim().toLowerCase().split(/\s+/)[0] || 'help';
    if (!['help', 'reset', 'status', 'summary', 'breathe', 'human', 'forget', 'yes'].includes(sub)) {
      // Free text never goes unread: a risk statement gets the fixed crisis response.
      const crisis = deps.engine.crisisResponse(command.text);
      await ack({ response_type: 'ephemeral', text: crisis ?? 'Usage: /trt help | status | summary | breathe | human | reset | forget' });
      return;
    }
    if (!command.channel_id.startsWith('D')) {
      // Slash commands do not reach threads, where channel conversations live: say how to get there.
      // (In a DM, help is a turn like the rest: its crisis lines are the person's country's.)
      const extra = sub === 'help' ? '' : '\n\nIn a channel, type `reset`, `status`, `summary`, `breathe`, `human` or `forget` as a message in our thread (slash commands do not work inside threads), or use /trt in our direct messages.';
      await ack({ response_type: 'ephemeral', text: `${deps.engine.texts.help}${extra}` });
      return;
    }
    const sessionId = `slack:${command.team_id}:${command.channel_id}`;
    // `origin`: an alert raised by `/trt human` names the DM (a slash command has no message to link to).
    const origin = { replyTo: { channel: command.channel_id, isDm: true } };
    const where = deps.userCountry ? ((await bounded(deps.userCountry.of(client, command.user_id), COUNTRY_WAIT_MS)) ?? {}) : {};
    const hints = { ...(where.country ? { platformCountry: where.country } : {}), ...(where.timeZone ? { platformTimeZone: where.timeZone } : {}) };
    const turn = deps.engine.handleTurn({ sessionId, userId: command.user_id, platform: 'slack', text: sub, tenant: command.team_id, origin, direct: true, ...hints });
    // Slack wants the ack within 3 s; a turn waiting on a busy session may take longer: then ack now, answer via respond().
    const quick = await Promise.race([turn, new Promise<null>((r) => setTimeout(() => r(null), COMMAND_DEADLINE_MS))]).catch(() => undefined);
    if (quick) {
      await ack({ response_type: 'ephemeral', text: quick.reply ?? 'Done.' });
      return;
    }
    if (quick === undefined) {
      await ack({ response_type: 'ephemeral', text: deps.engine.texts.unavailable });
      return;
    }
    await ack({ response_type: 'ephemeral', text: '_One moment…_' });
    // Not awaited: in HTTP mode the acknowledgement goes out when this handler returns.
    void turn
      .catch(() => null)
      .then((result) => respond({ response_type: 'ephemeral', text: result?.reply ?? deps.engine.texts.unavailable }))
      .catch((err: unknown) => deps.logger.error({ err: errorCode(err) }, 'Slack command answer failed'));
  });

  app.event('app_home_opened', async ({ event, client }) => {
    if (event.tab !== 'home') return;
    const { disclosure, help } = deps.engine.texts;
    // Not awaited: the event is acknowledged at once; a failed publish is logged (code only).
    void client.views.publish({
      user_id: event.user,
      view: {
        type: 'home',
        blocks: [
          { type: 'header', text: { type: 'plain_text', text: 'A guided, body-focused self-help conversation' } },
          { type: 'section', text: { type: 'mrkdwn', text: disclosure } },
          { type: 'divider' },
          { type: 'section', text: { type: 'mrkdwn', text: help } },
          { type: 'context', elements: [{ type: 'mrkdwn', text: 'Send me a direct message to begin.' }] },
        ],
      },
    }).catch((err: unknown) => deps.logger.warn({ err: (err as { data?: { error?: string } }).data?.error ?? errorCode(err) }, 'Slack App Home not published'));
  });
}

async function onMessage(deps: ListenerDeps, m: UserMessage, teamId: string, botUserId: string | undefined, client: WebClient, source: 'message' | 'app_mention'): Promise<void> {
  // Slack wants the answer within 3 s of sending: every wait below comes out of one budget.
  const started = Date.now();
  if (!m.user || m.bot_id || m.user === botUserId || !m.text) return;
  if (m.subtype !== undefined && !TEXT_SUBTYPES.has(m.subtype)) return; // edits, deletions, joins...
  const team = m.team ?? teamId;
  const place = placeOf({ team, channel: m.channel, ts: m.ts, thread_ts: m.thread_ts, channel_type: m.channel_type });
  const threadKey = `slack:thread:${place.sessionId}`;
  if (!place.isDm) {
    // A channel message without a mention counts only inside a thread the bot is part of. Checked before
    // dedupe, so a copy that is not ours does not use up the mark of the copy that is (app_mention).
    const mentioned = source === 'app_mention' || (botUserId !== undefined && m.text.includes(`<@${botUserId}`));
    if (!mentioned && m.thread_ts) {
      const ours = await bounded(deps.marks.exists(threadKey), MARK_WAIT_MS);
      if (ours === undefined) {
        // Redis is down, so whether this thread is ours is unknown: a risk statement still gets
        // the crisis response (safety first); anything else is not answered, since answering
        // would mean speaking in threads that may be other people's.
        const crisis = deps.engine.crisisResponse(withoutMention(m.text, botUserId));
        if (crisis) await deps.delivery.reply(client, place, crisis);
        return;
      }
      if (!ours) return;
    } else if (!mentioned) {
      return;
    }
  }
  const text = withoutMention(m.text, botUserId);
  if (!place.isDm && !deps.allowChannels) {
    // Refused (once per message), but a risk statement still gets the fixed crisis response, then the pointer to DMs.
    if (!((await bounded(deps.marks.setIfAbsent(`slack:msg:${team}:${m.channel}:${m.ts}`, DEDUPE_TTL_SECONDS), MARK_WAIT_MS)) ?? true)) return;
    const crisis = deps.engine.crisisResponse(text);
    await deps.delivery.reply(client, place, crisis ? `${crisis}\n\n${CHANNELS_OFF}` : CHANNELS_OFF);
    return;
  }
  // The bot is part of this thread now: follow-ups without a mention count.
  if (!place.isDm) await bounded(deps.marks.setIfAbsent(threadKey, THREAD_TTL_SECONDS), MARK_WAIT_MS);
  const replyTo: SlackReplyTo = { channel: place.channel, threadTs: place.threadTs, isDm: place.isDm };
  const where = deps.userCountry ? ((await bounded(deps.userCountry.of(client, m.user), COUNTRY_WAIT_MS)) ?? {}) : {};
  // Deduped by the message's own id, so Slack's retries and a mention arriving as both
  // message and app_mention make one turn. Slack is acknowledged once this resolves: within
  // the ack window, with the person told the truth if the message could not be queued.
  await enqueueHonestly(
    { queue: deps.queue, tell: (reply) => deps.delivery.reply(client, place, reply), crisisResponse: (t) => deps.engine.crisisResponse(t), texts: deps.engine.texts, logger: deps.logger },
    { id: `${m.channel}:${m.ts}`, sessionId: place.sessionId, userId: m.user, platform: 'slack', tenant: team, text, replyTo, receivedAt: Date.now(), ...slackOrder(m.ts), direct: place.isDm, ...(where.country ? { platformCountry: where.country } : {}), ...(where.timeZone ? { platformTimeZone: where.timeZone } : {}) },
    Math.max(100, ACK_WITHIN_MS - (Date.now() - started)),
  );
}
