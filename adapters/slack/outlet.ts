/**
 * The Slack side of a queued turn (worker): "One moment…" if the turn is slow,
 * the reply as it is being written (one message edited in place), then the
 * final reply, replacing the placeholder or preview in place. Works from a
 * plain WebClient, so a worker needs no receiver.
 */
import type { WebClient } from '@slack/web-api';
import type { Marks, Outlet, OutletTurn, OutletTurnOptions, TurnMessage } from '../../src/index.js';
import { LiveMessage, type LiveMessageState } from '../common/live-message.js';
import type { SlackPlace } from './conversation.js';
import { SLACK_MAX, type SlackDelivery } from './delivery.js';
import { splitMessage, toMrkdwn } from './mrkdwn.js';

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
/**
 * Least time between two preview edits of one message. chat.update is Tier 3 (~50 a minute
 * per workspace); one edit a second per reply being written stays well inside it.
 */
export const PREVIEW_EVERY_MS = 1000;
/** What a slow turn shows until its reply (or a preview of it) replaces it. */
export const PLACEHOLDER = '_One moment…_';
/** Ends a preview: the reply is still being written. */
const WRITING = ' …';

export class SlackOutlet implements Outlet {
  constructor(
    private readonly client: WebClient,
    private readonly delivery: SlackDelivery,
    private readonly marks: Marks,
    private readonly placeholderAfterMs = 700,
  ) {}

  begin(replyTo: Record<string, unknown>, sessionId: string, options: OutletTurnOptions = {}): OutletTurn {
    const r = replyTo as SlackReplyTo;
    const place: SlackPlace = { sessionId, channel: r.channel, threadTs: r.threadTs, isDm: r.isDm };
    const { earlier } = options;
    const record = options.record ?? (async () => undefined);
    // A message an earlier try left (a worker died): no new placeholder, the turn goes on in it.
    const placeholder = earlier ? adoptOnce(earlier.id) : this.startPlaceholder(place, record);
    // It holds a whole reply (posted, the turn not recorded): it stays as it is until the new
    // reply replaces it, rather than being rewritten by previews.
    const keepsReply = earlier?.shows === 'reply';
    const notice = this.noticeOnce(place);
    let recorded = false;
    const remember = (m: TurnMessage) => record(m).then(() => void (recorded = true));
    const live = new LiveMessage(
      {
        adopt: () => placeholder.stop(),
        post: async (text) => {
          // Not through delivery.call: a rate-limited preview is dropped, not retried.
          const res = await this.client.chat.postMessage({ channel: place.channel, text, ...(place.threadTs ? { thread_ts: place.threadTs } : {}) });
          if (!res.ts) throw new Error('chat.postMessage returned no ts');
          return res.ts;
        },
        edit: async (ts, text) => void (await this.client.chat.update({ channel: place.channel, ts, text })),
        shown: (ts) => void remember({ id: ts, shows: 'preview' }),
        failed: (err) => this.delivery.previewFailed(sessionId, err),
      },
      PREVIEW_EVERY_MS,
    );
    // The message the next reply goes into (a placeholder or a preview), once previews stopped.
    let target: LiveMessageState | undefined;
    const settle = async (): Promise<LiveMessageState> => {
      if (!target) {
        const state = await live.finish();
        const id = state.id ?? (await placeholder.stop());
        // An earlier try's preview or reply is text the person may have read.
        target = { id, shown: state.shown || (id !== undefined && id === earlier?.id && earlier.shows !== 'placeholder') };
      }
      return target;
    };
    return {
      preview: (partial) => {
        if (keepsReply) return;
        void notice
          .decide()
          .then((withNotice) => live.show(previewText(withNotice ? `${CHANNEL_NOTICE}\n\n${partial}` : partial)))
          .catch(() => undefined);
      },
      deliver: async (reply) => {
        const { id, shown } = await settle();
        const text = (await notice.decide()) ? `${CHANNEL_NOTICE}\n\n${reply}` : reply;
        const posted = await this.delivery.reply(this.client, place, text, {
          into: id,
          queued: true,
          shown,
          // Recorded before the turn is: a takeover then finds a reply, never a placeholder to delete.
          firstPosted: (ts) => remember({ id: ts, shows: 'reply' }),
        });
        if (posted) {
          // That message now holds a reply; a later one (a rate-limit notice) is a new message.
          target = { id: undefined, shown: false };
          notice.posted();
        }
        return posted;
      },
      close: async ({ keep = false } = {}) => {
        // A placeholder or preview no reply replaced goes (already answered, or nothing to say),
        // unless the turn is redone and its next try can find it (recorded): it goes on in it.
        // An earlier try's message is never deleted here: it may hold that try's reply.
        const { id } = await settle();
        target = { id: undefined, shown: false };
        const ours = id !== undefined && id !== earlier?.id;
        if (ours && !(keep && recorded)) await this.client.chat.delete({ channel: place.channel, ts: id }).catch(() => undefined);
        if (!keep) await notice.release();
      },
    };
  }

  /**
   * The channel notice, decided once per turn (previews and the reply agree): the first reply
   * in a channel thread says who can read it, once, whichever worker answers. `release` gives
   * the mark back when this turn posted nothing, so the redone turn still carries the notice.
   */
  private noticeOnce(place: SlackPlace) {
    const key = `slack:notice:${place.sessionId}`;
    let decided: Promise<boolean> | undefined;
    let owed = true;
    return {
      decide: async (): Promise<boolean> => {
        decided ??= place.isDm ? Promise.resolve(false) : this.marks.setIfAbsent(key, NOTICE_TTL_SECONDS).catch(() => true);
        return owed && (await decided);
      },
      posted: () => void (owed = false),
      release: async () => {
        if (owed && decided && (await decided)) await this.marks.clear(key).catch(() => undefined);
        owed = false;
      },
    };
  }

  /**
   * Posts "One moment…" if the turn is slow; `stop` returns its ts (to be updated in place) once.
   * It waits for the placeholder at most PLACEHOLDER_WAIT_MS: a slow Slack must not hold the
   * reply (a crisis response included); a placeholder that lands later is deleted.
   */
  private startPlaceholder(place: SlackPlace, record: (m: TurnMessage) => Promise<void>): { stop: () => Promise<string | undefined> } {
    let posted: Promise<string | undefined> | undefined;
    let used = false;
    let recorded: Promise<void> = Promise.resolve();
    const timer = setTimeout(() => {
      posted = this.delivery
        .call(place.sessionId, () => this.client.chat.postMessage({ channel: place.channel, text: PLACEHOLDER, ...(place.threadTs ? { thread_ts: place.threadTs } : {}) }))
        .then(
          (r) => {
            // Recorded at once, unless the turn already moved on without it (it is deleted then).
            if (r.ts && !used) recorded = record({ id: r.ts, shows: 'placeholder' });
            return r.ts;
          },
          () => undefined,
        );
    }, this.placeholderAfterMs);
    return {
      stop: async () => {
        clearTimeout(timer);
        if (!posted || used) return undefined;
        used = true;
        const late = Symbol('late');
        const ts = await Promise.race([posted, new Promise<typeof late>((r) => setTimeout(() => r(late), PLACEHOLDER_WAIT_MS))]);
        if (ts !== late) {
          await recorded; // in order: the placeholder's record before anything that replaces it
          return ts;
        }
        void posted.then((lateTs) => (lateTs ? this.client.chat.delete({ channel: place.channel, ts: lateTs }).catch(() => undefined) : undefined));
        return undefined;
      },
    };
  }
}

/** The message an earlier try left, handed to the turn once (as a placeholder would be). */
function adoptOnce(id: string): { stop: () => Promise<string | undefined> } {
  let used = false;
  return {
    stop: async () => {
      if (used) return undefined;
      used = true;
      return id;
    },
  };
}

/** Preview text as Slack shows it: mrkdwn, cut to one message, marked as still being written. */
function previewText(markdown: string): string {
  return splitMessage(toMrkdwn(markdown), SLACK_MAX - WRITING.length)[0]! + WRITING;
}
