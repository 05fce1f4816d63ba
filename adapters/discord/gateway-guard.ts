/**
 * The Discord edge: every gateway dispatch passes here before discord.js handles it.
 *
 * discord.js builds its objects (Message, Interaction, channels, users in its caches) from
 * the raw payload, and it throws on many malformed ones (`author: null`, `embeds: null`,
 * `flags: "x"`, an interaction without `data`...). It does that inside @discordjs/ws's
 * message handler, which is called as `void this.onMessage(...)`: the throw becomes an
 * unhandled rejection, which ends a Node process by default. No 'error' listener sees it.
 *
 * So the guard wraps the one method every dispatch goes through (WebSocketManager's
 * handlePacket, also used for packets queued before READY):
 *
 *   MESSAGE_CREATE / INTERACTION_CREATE  checked first (shapes.ts); a drop is one warn
 *                                        line and discord.js never sees the payload
 *   every dispatch                       handled inside try/catch; a throw is one warn
 *                                        line with the error's code, never its message
 *   every interaction                    answered: when it is dropped, when discord.js
 *                                        throws on it, or when discord.js does not emit
 *                                        it (a type or component it does not know), the
 *                                        guard answers over REST; what discord.js emits,
 *                                        the listeners answer
 *
 * The log line, for all three: `{ event, eventId?, reason }`, 'Discord event dropped at the
 * edge'. eventId only when it is a valid snowflake; reason a schema path and zod code
 * (`author.id: invalid_format`) or `discord.js: <code>`.
 */
import { Events, GatewayDispatchEvents, InteractionResponseType, MessageFlags, Routes, type Client } from 'discord.js';
import { errorCode } from '../../src/index.js';
import type { Logger } from '../../src/index.js';
import { ANSWERED_TYPES, classifyInteraction, classifyMessage } from './shapes.js';

/** The answer to an interaction the bot does not handle (also in listeners.ts). */
export const UNHANDLED_REPLY = "I can't do that here. Try `/trt help`.";

const KNOWN_EVENTS = new Set<string>(Object.values(GatewayDispatchEvents));

interface Packet {
  t?: unknown;
  d?: unknown;
}
type HandlePacket = (packet?: Packet, shard?: unknown) => boolean;

const GUARDED = Symbol('trt.gatewayGuard');

/**
 * Installs the guard on a client (once; before login). handlePacket is discord.js's own
 * (private, present since v12): if an upgrade renames it, starting fails here rather than
 * running unguarded.
 */
export function guardGateway(client: Client, logger: Logger, onDrop?: () => void): void {
  const ws = client.ws as unknown as { handlePacket?: HandlePacket; [GUARDED]?: true };
  if (ws[GUARDED]) return;
  if (typeof ws.handlePacket !== 'function') throw new Error('discord.js has no WebSocketManager.handlePacket: the gateway guard cannot be installed');
  ws[GUARDED] = true;
  const handle = ws.handlePacket.bind(ws);

  const drop = (event: string | undefined, reason: string, eventId?: string) => {
    onDrop?.();
    logger.warn({ ...(event ? { event } : {}), ...(eventId ? { eventId } : {}), reason }, 'Discord event dropped at the edge');
  };

  /** Interactions handed to discord.js that it has not emitted yet. */
  const pending = new Set<string>();
  // First among the listeners: a listener that throws must not keep this one from running.
  client.prependListener(Events.InteractionCreate, (interaction) => void pending.delete(interaction.id));

  const answer = (a: { id: string; token: string; type: number }) => {
    const body = answerFor(a.type);
    if (!body) return;
    client.rest.post(Routes.interactionCallback(a.id, a.token), { body, auth: false }).catch((err: unknown) => logger.warn({ eventId: a.id, err: errorCode(err) }, 'Discord interaction could not be answered'));
  };

  ws.handlePacket = (packet, shard) => {
    const t = packet && typeof packet === 'object' ? packet.t : undefined;
    const event = typeof t === 'string' && KNOWN_EVENTS.has(t) ? t : undefined;
    let eventId: string | undefined;
    let toAnswer: { id: string; token: string; type: number } | undefined;
    try {
      if (t === GatewayDispatchEvents.MessageCreate) {
        const v = classifyMessage(packet!.d);
        if (v.kind === 'drop') {
          drop(event, v.reason, v.eventId);
          return true;
        }
        eventId = v.eventId;
      } else if (t === GatewayDispatchEvents.InteractionCreate) {
        const v = classifyInteraction(packet!.d);
        if (v.kind === 'drop') {
          drop(event, v.reason, v.eventId);
          if (v.answer) answer(v.answer);
          return true;
        }
        eventId = v.eventId;
        toAnswer = v.answer;
        pending.add(v.eventId);
      }
    } catch (err) {
      // The checks themselves do not throw; if they ever do, the payload still goes no further.
      drop(event, `check: ${errorCode(err)}`);
      return true;
    }
    let handled = false;
    try {
      handled = handle(packet, shard);
      return handled;
    } catch (err) {
      handled = true;
      drop(event, `discord.js: ${errorCode(err)}`, eventId);
      return true;
    } finally {
      // Still pending: discord.js threw, or did not emit it (a type it does not know). Not
      // handled: queued until the client is ready, when this runs again for it.
      if (toAnswer && pending.delete(toAnswer.id) && handled) answer(toAnswer);
    }
  };
}

/** What Discord accepts as an answer that does nothing, per interaction type. */
function answerFor(type: number): Record<string, unknown> | undefined {
  if (!ANSWERED_TYPES.has(type)) return undefined; // PING (HTTP only) and types nobody knows
  if (type === 3) return { type: InteractionResponseType.DeferredMessageUpdate }; // a component: acknowledged, message unchanged
  if (type === 4) return { type: InteractionResponseType.ApplicationCommandAutocompleteResult, data: { choices: [] } };
  return { type: InteractionResponseType.ChannelMessageWithSource, data: { content: UNHANDLED_REPLY, flags: MessageFlags.Ephemeral } };
}
