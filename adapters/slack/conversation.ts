/**
 * Where a Slack message belongs: its session id and the thread a reply goes to.
 *
 *   DM, main flow            slack:<team>:<channel>              reply in the DM
 *   DM, inside a thread      slack:<team>:<channel>:<thread_ts>  reply in that thread
 *   channel (mention/thread) slack:<team>:<channel>:<thread_ts>  reply in the thread,
 *                            where thread_ts = event.thread_ts ?? event.ts
 */
export interface SlackPlace {
  sessionId: string;
  channel: string;
  /** Thread to reply in; undefined in a DM's main flow. */
  threadTs: string | undefined;
  isDm: boolean;
}

export function placeOf(e: { team: string; channel: string; ts: string; thread_ts?: string | undefined; channel_type?: string | undefined }): SlackPlace {
  const isDm = e.channel_type === 'im' || e.channel.startsWith('D');
  const inThread = e.thread_ts !== undefined && e.thread_ts !== e.ts;
  if (isDm) {
    return inThread
      ? { sessionId: `slack:${e.team}:${e.channel}:${e.thread_ts}`, channel: e.channel, threadTs: e.thread_ts, isDm }
      : { sessionId: `slack:${e.team}:${e.channel}`, channel: e.channel, threadTs: undefined, isDm };
  }
  const threadTs = e.thread_ts ?? e.ts;
  return { sessionId: `slack:${e.team}:${e.channel}:${threadTs}`, channel: e.channel, threadTs, isDm };
}

/** Removes mentions of the bot (`<@U123>`), so "@guide reset" is the command "reset". */
export function withoutMention(text: string, botUserId: string | undefined): string {
  const mention = botUserId ? new RegExp(`<@${botUserId}(\\|[^>]*)?>`, 'g') : /<@[A-Z0-9]+(\|[^>]*)?>/g;
  return text.replace(mention, ' ').replace(/\s+/g, ' ').trim();
}
