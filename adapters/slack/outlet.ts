/**
 * The Slack side of a queued turn (worker): "One moment…" if the turn is slow,
 * then the reply, replacing the placeholder in place. Works from a plain
 * WebClient, so a worker needs no receiver.
 */
import type { WebClient } from '@slack/web-api';
import type { Marks, Outlet, OutletTurn } from '../../src/index.js';
import type { SlackPlace } from './conversation.js';
import type { SlackDelivery } from './delivery.js';

/** What the receiver puts in a queued message for the reply. */
export interface SlackReplyTo {
  [key: string]: unknown;
  channel: string;
  threadTs?: string | undefined;
  isDm: boolean;
}

export const CHANNEL_NOTICE =
  'Note: this thread is visible to members of this channel. If you would rather talk privately, send me a direct message.';

const NOTICE_TTL_SECONDS = 30 * 86_400;
/** Longest wait for the placeholder post before the reply goes out as a new message. */
const PLACEHOLDER_WAIT_MS = 1000;

export class SlackOutlet implements Outlet {
  constructor(
    private readonly client: WebClient,
    private readonly delivery: SlackDelivery,
    private readonly marks: Marks,
    private readonly placeholderAfterMs = 700,
  ) {}

  begin(replyTo: Record<string, unknown>, sessionId: string): OutletTurn {
    const r = replyTo as SlackReplyTo;
    const place: SlackPlace = { sessionId, channel: r.channel, threadTs: r.threadTs, isDm: r.isDm };
    const placeholder = this.startPlaceholder(place);
    return {
      deliver: async (reply) => {
        // The first reply in a channel thread says who can read it (once, whichever worker answers).
        const notice = !place.isDm && (await this.marks.setIfAbsent(`slack:notice:${sessionId}`, NOTICE_TTL_SECONDS).catch(() => true));
        const ts = await placeholder.stop();
        return this.delivery.reply(this.client, place, notice ? `${CHANNEL_NOTICE}\n\n${reply}` : reply, ts, true);
      },
      close: async () => {
        // A turn that ended without a reply (already answered, handed over): no placeholder stays up.
        const ts = await placeholder.stop();
        if (ts) await this.client.chat.delete({ channel: place.channel, ts }).catch(() => undefined);
      },
    };
  }

  /**
   * Posts "One moment…" if the turn is slow; `stop` returns its ts (to be updated in place) once.
   * It waits for the placeholder at most PLACEHOLDER_WAIT_MS: a slow Slack must not hold the
   * reply (a crisis response included); a placeholder that lands later is deleted.
   */
  private startPlaceholder(place: SlackPlace): { stop: () => Promise<string | undefined> } {
    let posted: Promise<string | undefined> | undefined;
    let used = false;
    const timer = setTimeout(() => {
      posted = this.delivery
        .call(place.sessionId, () => this.client.chat.postMessage({ channel: place.channel, text: '_One moment…_', ...(place.threadTs ? { thread_ts: place.threadTs } : {}) }))
        .then((r) => r.ts, () => undefined);
    }, this.placeholderAfterMs);
    return {
      stop: async () => {
        clearTimeout(timer);
        if (!posted || used) return undefined;
        used = true;
        const late = Symbol('late');
        const ts = await Promise.race([posted, new Promise<typeof late>((r) => setTimeout(() => r(late), PLACEHOLDER_WAIT_MS))]);
        if (ts !== late) return ts;
        void posted.then((lateTs) => (lateTs ? this.client.chat.delete({ channel: place.channel, ts: lateTs }).catch(() => undefined) : undefined));
        return undefined;
      },
    };
  }
}
