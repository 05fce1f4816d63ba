/**
 * Safety alerts posted to a Slack channel (the responders' channel, tenants.json
 * `safety_alert.slack_channel`): the alert's lines (alert.ts `alertLines`, the same on every
 * destination) with an "I'm on it" button; once someone takes it, the message is edited to say
 * who, without the button (alert-actions.ts records the press, the worker's ack job edits).
 * While nobody has, the worker's remind jobs reply in the alert's thread, broadcast to the
 * channel, with an `@here` (reminderLine: no words of the person's, even with include_text).
 *
 * Errors are not caught: a refused or failed call throws and the alert worker retries it with
 * backoff. Nothing here logs the alert's lines (they may hold the person's words with
 * include_text); the link resolver logs ids and error codes only.
 */
import type { WebClient } from '@slack/web-api';
import { ACK_ACTION, alertLines, errorCode, reminderLine, takenLine } from '../../src/index.js';
import type { Acknowledgement, AlertNotifier, AlertRecord, ConversationLink, Logger, Reminder, SafetyAlert, SentRef } from '../../src/index.js';

/** Slack's own ids (what a `<@…>` mention may hold): anything else is shown as plain text. */
const SLACK_USER = /^[UW][A-Z0-9]{1,31}$/;
/** A section block's text is capped at 3,000 characters (a long included message is cut). */
const SECTION_MAX = 3000;
/** A header block's plain text is capped at 150. */
const HEADER_MAX = 150;

/** Escapes the three characters Slack treats as control characters in text (as mrkdwn.ts does). */
export function escapeText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Who took an alert, as Slack shows it: a mention for a Slack user (`slack:U…`), else the
 * acknowledger's name (a CLI operator, a Discord user), escaped.
 */
export function slackWho(by: string): string {
  const slack = /^slack:(.+)$/.exec(by)?.[1];
  return slack && SLACK_USER.test(slack) ? `<@${slack}>` : escapeText(by);
}

/** The alert's lines in mrkdwn: escaped, with the person mentioned when they are on Slack. */
function slackLines(record: AlertRecord): { title: string; lines: string[] } {
  const { title, lines } = alertLines(record);
  const a = record.alert;
  const mention = a.platform === 'slack' && SLACK_USER.test(a.userId);
  const person = `Person: ${a.userId} `;
  return {
    title,
    lines: lines.map((line) => (mention && line.startsWith(person) ? `Person: <@${a.userId}> ${escapeText(line.slice(person.length))}` : escapeText(line))),
  };
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function blocksOf(title: string, lines: string[], episode: string | undefined): unknown[] {
  return [
    { type: 'header', text: { type: 'plain_text', text: cut(title, HEADER_MAX), emoji: false } },
    { type: 'section', text: { type: 'mrkdwn', text: cut(lines.join('\n'), SECTION_MAX) } },
    ...(episode
      ? [{ type: 'actions', block_id: 'safety_alert', elements: [{ type: 'button', text: { type: 'plain_text', text: "I'm on it", emoji: false }, action_id: ACK_ACTION, value: episode, style: 'primary' }] }]
      : []),
  ];
}

export class SlackAlertNotifier implements AlertNotifier {
  readonly destination = 'slack' as const;

  constructor(private readonly client: WebClient) {}

  async send(record: AlertRecord): Promise<SentRef | undefined> {
    const channel = record.target.slackChannel;
    if (!channel) throw new Error('alert target has no Slack channel');
    const { title, lines } = slackLines(record);
    const res = await this.client.chat.postMessage({
      channel,
      text: [escapeText(title), ...lines].join('\n'),
      blocks: blocksOf(title, lines, record.alert.episode) as never,
      unfurl_links: false,
      unfurl_media: false,
    });
    if (typeof res.ts !== 'string') throw new Error('chat.postMessage returned no ts');
    return { channel: typeof res.channel === 'string' ? res.channel : channel, id: res.ts };
  }

  async acknowledged(record: AlertRecord, sent: SentRef | undefined, ack: Acknowledgement): Promise<void> {
    if (!sent) return; // never posted (its send failed for good): nothing to edit
    const { title, lines } = slackLines(record);
    const taken = escapeText(takenLine(ack)).replace(`Taken by ${escapeText(ack.by)} `, `Taken by ${slackWho(ack.by)} `);
    const all = [...lines, taken];
    await this.client.chat.update({
      channel: sent.channel,
      ts: sent.id,
      text: [escapeText(title), ...all].join('\n'),
      blocks: blocksOf(title, all, undefined) as never,
    });
    // Reminders ("Not taken yet") were broadcast to the channel: it is told it is taken the same way.
    // After the edit, so a retry after a failed reply edits again (harmless) rather than replying twice.
    if (record.reminded?.slack) {
      await this.client.chat.postMessage({ channel: sent.channel, thread_ts: sent.id, reply_broadcast: true, text: taken, unfurl_links: false, unfurl_media: false });
    }
  }

  /**
   * A reply in the alert's thread, broadcast to the channel so it is seen there too, with
   * `<!here>` (notifies whoever is active in the channel); a plain message in the target's
   * channel when the alert was never posted.
   */
  async remind(record: AlertRecord, sent: SentRef | undefined, reminder: Reminder): Promise<void> {
    const channel = sent?.channel ?? record.target.slackChannel;
    if (!channel) throw new Error('alert target has no Slack channel');
    const text = `<!here> ${escapeText(reminderLine(record, reminder))}`;
    const common = { channel, text, unfurl_links: false, unfurl_media: false };
    await this.client.chat.postMessage(sent ? { ...common, thread_ts: sent.id, reply_broadcast: true } : common);
  }
}

/** The queued Slack message id: `<channel>:<ts>` (listeners.ts). */
const MESSAGE_ID = /^([CDG][A-Z0-9]{1,31}):(\d{1,12}\.\d{1,9})$/;

/**
 * The conversation link for an alert from a Slack conversation: a permalink to the message that
 * fired the protocol (chat.getPermalink). Undefined for other platforms, for an alert without a
 * message id, and when Slack does not answer (the alert goes out without a link: a warning with
 * the error code, never the text).
 */
export function slackConversationLink(client: WebClient, logger: Logger): ConversationLink {
  return async (alert: SafetyAlert) => {
    if (alert.platform !== 'slack') return undefined;
    const m = MESSAGE_ID.exec(alert.origin?.messageId ?? '');
    if (!m) return undefined;
    try {
      const res = await client.chat.getPermalink({ channel: m[1]!, message_ts: m[2]! });
      return typeof res.permalink === 'string' ? res.permalink : undefined;
    } catch (err) {
      logger.warn({ episode: alert.episode, err: errorCode(err) }, 'Slack permalink for a safety alert failed; alerting without a link');
      return undefined;
    }
  };
}
