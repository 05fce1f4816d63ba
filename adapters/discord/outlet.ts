/**
 * The Discord side of a queued turn (worker): "typing…" while the turn runs,
 * the reply as it is being written (one message edited in place), then the
 * final reply in pieces under 2,000 characters, the first replacing the
 * preview. It speaks REST only, so a worker needs no gateway connection;
 * discord.js's REST client queues per route and honours 429 Retry-After per
 * bucket, so one busy channel does not hold up the others.
 */
import { REST, Routes } from 'discord.js';
import { errorCode } from '../../src/index.js';
import type { Logger, Outlet, OutletTurn, OutletTurnOptions, TurnMessage } from '../../src/index.js';
import { LiveMessage, type LiveMessageState } from '../common/live-message.js';
import { splitMessage } from '../common/split-message.js';

/** Discord's limit is 2,000 characters a message. */
export const DISCORD_MAX = 2000;
/**
 * Least time between two preview edits of one message. Discord allows 5 edits per 5 s per
 * channel; one every 1.2 s leaves room for the final reply's edit and the next pieces.
 */
export const PREVIEW_EVERY_MS = 1200;
/** Ends a preview: the reply is still being written. */
const WRITING = ' …';
/** Replies and previews never ping anyone (the text is generated). */
const NO_MENTIONS = { parse: [] };

export interface DiscordReplyTo {
  [key: string]: unknown;
  channelId: string;
  /** Where the message itself is, when not in `channelId` (a thread's first message, in its parent channel). */
  messageChannelId?: string;
}

export class DiscordOutlet implements Outlet {
  constructor(
    private readonly rest: REST,
    private readonly logger: Logger,
    /** How often "typing" is renewed (Discord shows it ~10 s). */
    private readonly typingEveryMs = 8000,
  ) {}

  begin(replyTo: Record<string, unknown>, sessionId: string, options: OutletTurnOptions = {}): OutletTurn {
    const { channelId } = replyTo as DiscordReplyTo;
    const { earlier } = options;
    const record = options.record ?? (async () => undefined);
    let recorded = false;
    const remember = (m: TurnMessage) => record(m).then(() => void (recorded = true));
    // An earlier try's whole reply stays as it is until the new reply replaces it (no previews over it).
    const keepsReply = earlier?.shows === 'reply';
    const type = () => void this.rest.post(Routes.channelTyping(channelId)).catch(() => undefined);
    type();
    const timer = setInterval(type, this.typingEveryMs);
    const live = new LiveMessage(
      {
        // A message an earlier try left (a worker died): the turn goes on in it.
        ...(earlier ? { adopt: async () => earlier.id } : {}),
        post: async (content) => {
          const message = (await this.rest.post(Routes.channelMessages(channelId), { body: { content, allowed_mentions: NO_MENTIONS } })) as { id: string };
          return message.id;
        },
        edit: async (id, content) => void (await this.rest.patch(Routes.channelMessage(channelId, id), { body: { content, allowed_mentions: NO_MENTIONS } })),
        shown: (id) => void remember({ id, shows: 'preview' }),
        failed: (err) => {
          // discord.js waits out 429s itself (per bucket); what reaches here is dropped.
          this.logger.warn({ sessionId, err: errorCode(err) }, 'Discord reply preview failed; preview dropped');
          return 0;
        },
      },
      PREVIEW_EVERY_MS,
    );
    // The preview message the next reply goes into, once previews stopped.
    let target: LiveMessageState | undefined;
    const settle = async (): Promise<LiveMessageState> => {
      clearInterval(timer);
      if (!target) {
        const state = await live.finish();
        // Previews never ran: an earlier try's message is still the one to go on in.
        const id = state.id ?? earlier?.id;
        target = { id, shown: state.shown || (id !== undefined && id === earlier?.id) };
      }
      return target;
    };
    return {
      preview: (partial) => {
        if (keepsReply) return;
        clearInterval(timer); // the message being written replaces "typing"
        live.show(splitMessage(partial, DISCORD_MAX - WRITING.length)[0]! + WRITING);
      },
      deliver: async (reply) => {
        const { id, shown } = await settle();
        let sent = 0;
        try {
          for (const [i, content] of splitMessage(reply, DISCORD_MAX).entries()) {
            const body = { content, allowed_mentions: NO_MENTIONS };
            if (i === 0 && id) {
              // Recorded before the turn is: a takeover then finds a reply, never a preview to delete.
              await remember({ id: await this.replacePreview(sessionId, channelId, id, body), shows: 'reply' });
            } else {
              const posted = (await this.rest.post(Routes.channelMessages(channelId), { body })) as { id: string };
              if (i === 0) await remember({ id: posted.id, shows: 'reply' });
            }
            sent++;
          }
          target = { id: undefined, shown: false }; // a later reply (a rate-limit notice) is a new message
          return true;
        } catch (err) {
          // Nothing posted: false, and the turn stays queued to be redone. Partly posted, or a
          // preview the person has read: redoing the turn would answer twice.
          this.logger.error({ sessionId, err: errorCode(err), piecesSent: sent, previewShown: shown }, 'Discord reply not delivered');
          if (sent > 0 || shown) target = { id: undefined, shown: false };
          return sent > 0 || shown;
        }
      },
      close: async ({ keep = false } = {}) => {
        // A preview no reply replaced goes (nothing more to say), unless the turn is redone and
        // its next try can find it (recorded): it goes on in it. An earlier try's message is
        // never deleted here: it may hold that try's reply.
        const { id } = await settle();
        target = { id: undefined, shown: false };
        const ours = id !== undefined && id !== earlier?.id;
        if (ours && !(keep && recorded)) await this.rest.delete(Routes.channelMessage(channelId, id)).catch(() => undefined);
      },
    };
  }

  /**
   * Puts the reply's first piece into the preview message. Nothing here redelivers later (unlike
   * Slack), and discord.js has already retried 429s and 5xx: if the edit still fails, the piece
   * is posted as a new message and the half-written preview removed, so the person does not
   * keep only a partial reply. Returns the id of the message holding the piece; throws when the new message fails too.
   */
  private async replacePreview(sessionId: string, channelId: string, id: string, body: { content: string; allowed_mentions: typeof NO_MENTIONS }): Promise<string> {
    try {
      await this.rest.patch(Routes.channelMessage(channelId, id), { body });
      return id;
    } catch (err) {
      this.logger.warn({ sessionId, err: errorCode(err) }, 'Discord preview could not be replaced; posting the reply as a new message');
      const posted = (await this.rest.post(Routes.channelMessages(channelId), { body })) as { id: string };
      await this.rest.delete(Routes.channelMessage(channelId, id)).catch(() => undefined);
      return posted.id;
    }
  }
}

/** A worker's outlet without a gateway (`--role worker`). */
export function createDiscordOutlet(settings: { token: string; apiUrl?: string | undefined }, logger: Logger, typingEveryMs?: number): DiscordOutlet {
  const rest = new REST(settings.apiUrl ? { api: settings.apiUrl } : {}).setToken(settings.token);
  return new DiscordOutlet(rest, logger, typingEveryMs);
}
