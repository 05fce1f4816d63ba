/**
 * The Discord side of a queued turn (worker): "typing…" while the turn runs,
 * then the reply in pieces under 2,000 characters. It speaks REST only, so a
 * worker needs no gateway connection; discord.js's REST client queues per
 * route and honours 429 Retry-After per bucket, so one busy channel does not
 * hold up the others.
 */
import { REST, Routes } from 'discord.js';
import { errorCode } from '../../src/index.js';
import type { Logger, Outlet, OutletTurn } from '../../src/index.js';
import { splitMessage } from '../common/split-message.js';

/** Discord's limit is 2,000 characters a message. */
export const DISCORD_MAX = 2000;

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
    return {
      deliver: async (reply) => {
        clearInterval(timer);
        let sent = 0;
        try {
          for (const piece of splitMessage(reply, DISCORD_MAX)) {
            await this.rest.post(Routes.channelMessages(channelId), { body: { content: piece, allowed_mentions: { parse: [] } } });
            sent++;
          }
          return true;
        } catch (err) {
          // Nothing posted: false, and the turn stays queued to be redone. Partly posted: the
          // person has the start; redoing the turn would repeat it.
          this.logger.error({ sessionId, err: errorCode(err), piecesSent: sent }, 'Discord reply not delivered');
          return sent > 0;
        }
      },
      close: async () => clearInterval(timer),
    };
  }
}

/** A worker's outlet without a gateway (`--role worker`). */
export function createDiscordOutlet(settings: { token: string; apiUrl?: string | undefined }, logger: Logger, typingEveryMs?: number): DiscordOutlet {
  const rest = new REST(settings.apiUrl ? { api: settings.apiUrl } : {}).setToken(settings.token);
  return new DiscordOutlet(rest, logger, typingEveryMs);
}
