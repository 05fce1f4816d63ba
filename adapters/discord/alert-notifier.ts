/**
 * Safety alerts in a Discord channel (the responders' channel a tenant names): the alert as a
 * message with an "I'm on it" button (custom id `safety_ack:<episode>`, answered by
 * alert-buttons.ts), edited to say who took it once someone has; while nobody has, a reminder
 * replies to it. REST only, so a worker without a gateway posts them; discord.js's REST waits
 * out 429s per route.
 *
 * The alert and its edits ping no one: the person is mentioned (when they are a Discord user)
 * so that a responder sees who they are, never notified; `allowed_mentions` is empty on those
 * requests. A reminder notifies `@here` and nothing else: its words are reminderLine's (no
 * mention, never the person's text), and its allowed_mentions parses `everyone` only.
 * Errors are thrown as they are (the worker retries with backoff) and nothing is logged here:
 * an alert may carry the person's words (include_text).
 */
import { REST, Routes } from 'discord.js';
import { ACK_ACTION, alertLines, reminderLine, takenLine } from '../../src/index.js';
import type { Acknowledgement, AlertNotifier, AlertRecord, ConversationLink, Reminder, SafetyAlert, SentRef } from '../../src/index.js';
import { DISCORD_MAX } from './outlet.js';
import { isSnowflake } from './shapes.js';

/** Alerts never ping: not the person, not the taker, not an `@everyone` inside included text. */
const NO_MENTIONS = { parse: [] as string[] };
/** A reminder's `@here` notifies (Discord parses `@here` under `everyone`); its content has no other mention. */
const HERE_ONLY = { parse: ['everyone'] };
/** Discord's component and button style numbers (ComponentType.ActionRow / Button, ButtonStyle.Primary). */
const ACTION_ROW = 1;
const BUTTON = 2;
const PRIMARY = 1;
export const ACK_LABEL = "I'm on it";

/** `<@id>` for a Discord user (rendered as their name, no ping with NO_MENTIONS); anything else as it is. */
export function discordWho(by: string): string {
  const id = by.startsWith('discord:') ? by.slice('discord:'.length) : undefined;
  return id !== undefined && isSnowflake(id) ? `<@${id}>` : by;
}

/** Cuts to `max` UTF-16 units (Discord's count is no stricter), never inside a surrogate pair. */
function fit(s: string, max: number): string {
  if (s.length <= max) return s;
  let cut = s.slice(0, max - 1);
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  return `${cut}…`;
}

/**
 * The alert's message: the bold title, then the lines every destination shows. A Discord
 * person is also shown as a mention (their id stays, for a responder outside that server).
 * `tail` (the taken line) is kept whole: what gives way to the limit is the end of the body,
 * where the included text, if any, sits.
 */
export function alertContent(record: AlertRecord, tail?: string): string {
  const { title, lines } = alertLines(record);
  const a = record.alert;
  const person = `Person: ${a.userId} · session ${a.sessionId}`;
  const mention = a.platform === 'discord' && isSnowflake(a.userId) ? `Person: <@${a.userId}> (${a.userId}) · session ${a.sessionId}` : undefined;
  const body = [`**${title}**`, ...lines.map((l) => (mention && l === person ? mention : l))].join('\n');
  if (tail === undefined) return fit(body, DISCORD_MAX);
  const end = fit(tail, 300);
  return `${fit(body, DISCORD_MAX - end.length - 1)}\n${end}`;
}

/** The alert as it reads once taken (the worker's edit, and the button's own update). */
export function takenContent(record: AlertRecord, ack: Acknowledgement): string {
  return alertContent(record, `**${takenLine({ ...ack, by: discordWho(ack.by) })}**`);
}

/** The one action row with the "I'm on it" button. */
export function ackButtonRow(episode: string): Record<string, unknown>[] {
  return [{ type: ACTION_ROW, components: [{ type: BUTTON, style: PRIMARY, label: ACK_LABEL, custom_id: `${ACK_ACTION}:${episode}` }] }];
}

export class DiscordAlertNotifier implements AlertNotifier {
  readonly destination = 'discord' as const;

  constructor(private readonly rest: REST) {}

  async send(record: AlertRecord): Promise<SentRef | undefined> {
    const channel = record.target.discordChannel;
    // Not retryable: a target without a Discord channel has no Discord job (destinationsOf).
    if (!channel || !isSnowflake(channel)) throw new Error('Discord alert target has no valid channel id');
    const body = { content: alertContent(record), allowed_mentions: NO_MENTIONS, components: ackButtonRow(record.alert.episode) };
    const posted = (await this.rest.post(Routes.channelMessages(channel), { body })) as { id: string };
    return { channel, id: posted.id };
  }

  async acknowledged(record: AlertRecord, sent: SentRef | undefined, ack: Acknowledgement): Promise<void> {
    // Never posted (the send failed for good): nothing to edit.
    if (!sent) return;
    const body = { content: takenContent(record, ack), allowed_mentions: NO_MENTIONS, components: [] };
    await this.rest.patch(Routes.channelMessage(sent.channel, sent.id), { body });
    // Reminders ("Not taken yet") stand below the alert: the channel is told it is taken, below them.
    // After the edit, so a retry after a failed reply edits again (harmless) rather than replying twice.
    if (record.reminded?.discord) {
      const reply = { content: takenLine({ ...ack, by: discordWho(ack.by) }), allowed_mentions: NO_MENTIONS, message_reference: { message_id: sent.id, fail_if_not_exists: false } };
      await this.rest.post(Routes.channelMessages(sent.channel), { body: reply });
    }
  }

  /**
   * `@here` and the reminder line, as a reply to the posted alert (a plain message when the
   * alert is gone: fail_if_not_exists false), or in the target's channel when it was never posted.
   */
  async remind(record: AlertRecord, sent: SentRef | undefined, reminder: Reminder): Promise<void> {
    const channel = sent?.channel ?? record.target.discordChannel;
    if (!channel || !isSnowflake(channel)) throw new Error('Discord alert target has no valid channel id');
    const body = {
      content: fit(`@here ${reminderLine(record, reminder)}`, DISCORD_MAX),
      allowed_mentions: HERE_ONLY,
      ...(sent ? { message_reference: { message_id: sent.id, fail_if_not_exists: false } } : {}),
    };
    await this.rest.post(Routes.channelMessages(channel), { body });
  }
}

/** A worker's notifier without a gateway (the same settings as createDiscordOutlet). */
export function createDiscordAlertNotifier(settings: { token: string; apiUrl?: string | undefined }): DiscordAlertNotifier {
  return new DiscordAlertNotifier(new REST(settings.apiUrl ? { api: settings.apiUrl } : {}).setToken(settings.token));
}

/**
 * A Discord message link to where the protocol fired: `https://discord.com/channels/<guild or
 * @me>/<channel>/<message>`, from the session id (`discord:<guild>:<thread>`,
 * `discord:dm:<channel>`: listeners.ts sessionIdFor), the message's channel (the reply channel
 * unless replyTo names another: a thread's first message is in the parent) and the message id.
 * Undefined for other platforms and whenever a part is missing or not a snowflake (a forged
 * id never becomes a link a responder clicks).
 */
export const discordConversationLink: ConversationLink = async (alert: SafetyAlert) => {
  if (alert.platform !== 'discord') return undefined;
  const m = /^discord:(dm|\d{17,20}):(\d{17,20})$/.exec(alert.sessionId);
  // The message's own channel when it differs from the reply channel (listeners.ts messageChannelId).
  const replyTo = alert.origin?.replyTo;
  const channel = replyTo?.messageChannelId !== undefined ? replyTo.messageChannelId : replyTo?.channelId;
  const message = alert.origin?.messageId;
  if (!m || !isSnowflake(channel) || !isSnowflake(message)) return undefined;
  const guild = m[1] === 'dm' ? '@me' : m[1]!;
  return `https://discord.com/channels/${guild}/${channel}/${message}`;
};
