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
import type { Logger, Outlet, OutletTurn } from '../../src/index.js';
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
}

export class DiscordOutlet implements Outlet {
  constructor(
    private readonly rest: REST,
    private readonly logger: Logger,
    /** How often "typing" is renewed (Discord shows it ~10 s). */
    private readonly typingEveryMs = 8000,
  ) {}

  begin(replyTo: Record<string, unknown>, sessionId: string): OutletTurn {
    const { channelId } = replyTo as DiscordReplyTo;
    const type = () => void this.rest.post(Routes.channelTyping(channelId)).catch(() => undefined);
    type();
    const timer = setInterval(type, this.typingEveryMs);
    const live = new LiveMessage(
      {
        post: async (content) => {
          const message = (await this.rest.post(Routes.channelMessages(channelId), { body: { content, allowed_mentions: NO_MENTIONS } })) as { id: string };
          return message.id;
        },
        edit: async (id, content) => void (await this.rest.patch(Routes.channelMessage(channelId, id), { body: { content, allowed_mentions: NO_MENTIONS } })),
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
      target ??= await live.finish();
      return target;
    };
    return {
      preview: (partial) => {
        clearInterval(timer); // the message being written replaces "typing"
        live.show(splitMessage(partial, DISCORD_MAX - WRITING.length)[0]! + WRITING);
      },
      deliver: async (reply) => {
        const { id, shown } = await settle();
        let sent = 0;
        try {
          for (const [i, content] of splitMessage(reply, DISCORD_MAX).entries()) {
            const body = { content, allowed_mentions: NO_MENTIONS };
            if (i === 0 && id) await this.replacePreview(sessionId, channelId, id, body);
            else await this.rest.post(Routes.channelMessages(channelId), { body });
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
      close: async () => {
        // A preview no reply replaced (handed over, not delivered) goes: the turn is redone and
        // would answer again below it.
        const { id } = await settle();
        target = { id: undefined, shown: false };
        if (id) await this.rest.delete(Routes.channelMessage(channelId, id)).catch(() => undefined);
      },
    };
  }

  /**
   * Puts the reply's first piece into the preview message. Nothing here redelivers later (unlike
   * Slack), and discord.js has already retried 429s and 5xx: if the edit still fails, the piece
   * is posted as a new message and the half-written preview removed, so the person does not
   * keep only a partial reply. Throws when the new message fails too.
   */
  private async replacePreview(sessionId: string, channelId: string, id: string, body: { content: string; allowed_mentions: typeof NO_MENTIONS }): Promise<void> {
    try {
      await this.rest.patch(Routes.channelMessage(channelId, id), { body });
    } catch (err) {
      this.logger.warn({ sessionId, err: errorCode(err) }, 'Discord preview could not be replaced; posting the reply as a new message');
      await this.rest.post(Routes.channelMessages(channelId), { body });
      await this.rest.delete(Routes.channelMessage(channelId, id)).catch(() => undefined);
    }
  }
}

/** A worker's outlet without a gateway (`--role worker`). */
export function createDiscordOutlet(settings: { token: string; apiUrl?: string | undefined }, logger: Logger, typingEveryMs?: number): DiscordOutlet {
  const rest = new REST(settings.apiUrl ? { api: settings.apiUrl } : {}).setToken(settings.token);
  return new DiscordOutlet(rest, logger, typingEveryMs);
}
