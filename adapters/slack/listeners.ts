/**
 * Slack listeners: map an event to a session, hand the text to the engine, post
 * what comes back. No conversation logic lives here.
 *
 * Handled: DMs (message.im), mentions (app_mention) and follow-ups in a thread
 * the bot is part of (message.channels / message.groups), the /trt command and
 * the App Home tab. Ignored: the bot's own and other bots' messages, and every
 * message subtype (edits, deletions, joins, file shares without text, ...).
 */
import type { App } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { errorCode } from '../../src/index.js';
import type { Engine, Logger, Marks } from '../../src/index.js';
import { placeOf, withoutMention, type SlackPlace } from './conversation.js';
import type { SlackDelivery } from './delivery.js';

export interface ListenerDeps {
  engine: Pick<Engine, 'handleTurn' | 'texts' | 'crisisResponse'>;
  marks: Marks;
  delivery: SlackDelivery;
  logger: Logger;
  /** Answer in channels (true) or only in DMs (false). */
  allowChannels: boolean;
  /** After this long without a reply, a placeholder shows the bot is working. Default 700 ms. */
  placeholderAfterMs?: number;
}

/** Message subtypes that carry a person's words (a file with text, "also send to channel", /me). */
const TEXT_SUBTYPES = new Set(['file_share', 'thread_broadcast', 'me_message']);
/** Longest wait for the placeholder post before the reply goes out as a new message. */
const PLACEHOLDER_WAIT_MS = 1000;
/** Slash commands must be acked within 3 s; answer later through response_url past this. */
const COMMAND_DEADLINE_MS = 2000;
/** Dedupe records outlive Slack's retries (up to three, over about an hour). */
const DEDUPE_TTL_SECONDS = 2 * 3600;
/** How long a channel thread stays "ours" after the bot last spoke in it (matches session retention roughly). */
const THREAD_TTL_SECONDS = 30 * 86_400;

const CHANNEL_NOTICE =
  'Note: this thread is visible to members of this channel. If you would rather talk privately, send me a direct message.';
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

  app.command('/trt', async ({ command, ack, respond }) => {
    const sub = command.text.trim().toLowerCase().split(/\s+/)[0] || 'help';
    if (!['help', 'reset', 'status', 'forget', 'yes'].includes(sub)) {
      // Free text never goes unread: a risk statement gets the fixed crisis response.
      const crisis = deps.engine.crisisResponse(command.text);
      await ack({ response_type: 'ephemeral', text: crisis ?? 'Usage: /trt help | reset | status | forget' });
      return;
    }
    if (sub === 'help' || !command.channel_id.startsWith('D')) {
      // Slash commands do not reach threads, where channel conversations live: say how to get there.
      const extra = sub === 'help' ? '' : '\n\nIn a channel, type `reset`, `status` or `forget` as a message in our thread (slash commands do not work inside threads), or use /trt in our direct messages.';
      await ack({ response_type: 'ephemeral', text: `${deps.engine.texts.help}${extra}` });
      return;
    }
    const sessionId = `slack:${command.team_id}:${command.channel_id}`;
    const turn = deps.engine.handleTurn({ sessionId, userId: command.user_id, platform: 'slack', text: sub, tenant: command.team_id });
    // Slack wants the ack within 3 s; a turn waiting on a busy session may take longer: then ack now, answer via respond().
    const quick = await Promise.race([turn, new Promise<null>((r) => setTimeout(() => r(null), COMMAND_DEADLINE_MS))]).catch(() => undefined);
    if (quick) {
      await ack({ response_type: 'ephemeral', text: quick.reply ?? 'Done.' });
      return;
    }
    if (quick === undefined) {
      await ack({ response_type: 'ephemeral', text: "I'm having trouble right now, please try again in a moment." });
      return;
    }
    await ack({ response_type: 'ephemeral', text: '_One moment…_' });
    const result = await turn.catch(() => null);
    await respond({ response_type: 'ephemeral', text: result?.reply ?? "I'm having trouble right now, please try again in a moment." });
  });

  app.event('app_home_opened', async ({ event, client }) => {
    if (event.tab !== 'home') return;
    const { disclosure, help } = deps.engine.texts;
    await client.views.publish({
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
    });
  });
}

async function onMessage(deps: ListenerDeps, m: UserMessage, teamId: string, botUserId: string | undefined, client: WebClient, source: 'message' | 'app_mention'): Promise<void> {
  if (!m.user || m.bot_id || m.user === botUserId || !m.text) return;
  if (m.subtype !== undefined && !TEXT_SUBTYPES.has(m.subtype)) return; // edits, deletions, joins...
  const team = m.team ?? teamId;
  const place = placeOf({ team, channel: m.channel, ts: m.ts, thread_ts: m.thread_ts, channel_type: m.channel_type });
  const threadKey = `slack:thread:${place.sessionId}`;
  if (!place.isDm) {
    // A channel message without a mention counts only inside a thread the bot is part of. Checked before
    // dedupe, so a copy that is not ours does not use up the mark of the copy that is (app_mention).
    const mentioned = source === 'app_mention' || (botUserId !== undefined && m.text.includes(`<@${botUserId}`));
    if (!mentioned && !(m.thread_ts && (await deps.marks.exists(threadKey)))) return;
  }
  // One turn per message, however often Slack delivers it: retries, or a mention arriving as both message and app_mention.
  if (!(await deps.marks.setIfAbsent(`slack:msg:${team}:${m.channel}:${m.ts}`, DEDUPE_TTL_SECONDS))) return;

  const text = withoutMention(m.text, botUserId);
  let notice = '';
  if (!place.isDm) {
    if (!deps.allowChannels) {
      // Refused, but a risk statement still gets the fixed crisis response (then the pointer to DMs).
      const crisis = deps.engine.crisisResponse(text);
      await deps.delivery.reply(client, place, crisis ? `${crisis}\n\n${CHANNELS_OFF}` : CHANNELS_OFF);
      return;
    }
    if (await deps.marks.setIfAbsent(threadKey, THREAD_TTL_SECONDS)) notice = `${CHANNEL_NOTICE}\n\n`;
  }

  const placeholder = startPlaceholder(deps, client, place);
  try {
    const result = await deps.engine.handleTurn({ sessionId: place.sessionId, userId: m.user, platform: 'slack', text, tenant: team });
    const placeholderTs = await placeholder.stop();
    if (result.reply !== null) await deps.delivery.reply(client, place, notice + result.reply, placeholderTs);
  } catch (err) {
    await placeholder.stop();
    deps.logger.error({ sessionId: place.sessionId, err: errorCode(err) }, 'Slack turn failed');
  }
}

/**
 * Posts "One moment..." if the turn is slow; `stop` returns its ts (to be updated in place), or
 * undefined. It waits for the placeholder at most PLACEHOLDER_WAIT_MS: a slow Slack must not hold
 * the reply (a crisis response included); a placeholder that lands later is deleted.
 */
function startPlaceholder(deps: ListenerDeps, client: WebClient, place: SlackPlace): { stop: () => Promise<string | undefined> } {
  let posted: Promise<string | undefined> | undefined;
  const timer = setTimeout(() => {
    posted = deps.delivery
      .call(place.sessionId, () => client.chat.postMessage({ channel: place.channel, text: '_One moment…_', ...(place.threadTs ? { thread_ts: place.threadTs } : {}) }))
      .then((r) => r.ts, () => undefined);
  }, deps.placeholderAfterMs ?? 700);
  return {
    stop: async () => {
      clearTimeout(timer);
      if (!posted) return undefined;
      const late = Symbol('late');
      const ts = await Promise.race([posted, new Promise<typeof late>((r) => setTimeout(() => r(late), PLACEHOLDER_WAIT_MS))]);
      if (ts !== late) return ts;
      void posted.then((lateTs) => (lateTs ? client.chat.delete({ channel: place.channel, ts: lateTs }).catch(() => undefined) : undefined));
      return undefined;
    },
  };
}
