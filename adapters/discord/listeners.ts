/**
 * Discord listeners (the receiving side): map a message to a session and queue
 * it (a worker answers through outlet.ts); slash commands are answered here.
 * No conversation logic lives here.
 *
 *   a DM channel                      discord:dm:<channel_id>
 *   a thread the bot opened           discord:<guild_id>:<thread_id>
 *
 * A mention in a server text channel opens a thread (private where the server
 * allows, else public) and the conversation continues there without mentions.
 * Ignored: bots (the bot itself included), system messages (thread created,
 * pins, joins...), edits (messageUpdate is not listened to).
 *
 * Before any of this, gateway-guard.ts has checked the raw payload (shapes.ts): what
 * reaches these listeners has snowflake ids, a content string within Discord's limits and
 * an author. A safety alert's "I'm on it" button goes to alert-buttons.ts (when `alerts` is
 * set); other interactions but /trt are answered here as "not handled" (Discord wants every
 * interaction answered within 3 s); none reaches the engine.
 */
import { ChannelType, Events, MessageFlags, MessageType, type ChatInputCommandInteraction, type Client, type Interaction, type Message, type SendableChannels } from 'discord.js';
import { countryFromLocale, enqueueHonestly, errorCode } from '../../src/index.js';
import type { AlertQueue, Engine, Logger, Marks, TurnQueue } from '../../src/index.js';
import { alertEpisodeOf, onAlertButton } from './alert-buttons.js';
import { discordOrder } from '../common/platform-order.js';
import { splitMessage } from '../common/split-message.js';
import { UNHANDLED_REPLY, guardGateway } from './gateway-guard.js';
import { isSnowflake } from './shapes.js';
import { DISCORD_MAX, type DiscordReplyTo } from './outlet.js';

export interface DiscordListenerDeps {
  engine: Pick<Engine, 'handleTurn' | 'texts' | 'crisisResponse'>;
  marks: Marks;
  queue: TurnQueue;
  logger: Logger;
  /** Counts events dropped at the edge (trt_edge_rejected_total{platform="discord"}). */
  onEdgeDrop?: (() => void) | undefined;
  /** Safety alerts' "I'm on it" button; unset: those buttons are answered as not handled. */
  alerts?: Pick<AlertQueue, 'acknowledge'> | undefined;
}
const DEDUPE_TTL_SECONDS = 2 * 3600;
const THREAD_TTL_SECONDS = 30 * 86_400;

/**
 * Marks that fail open: if Redis is unreachable, a message is treated as new and a thread as not
 * (yet) known. A rare duplicate reply is better than silence, above all for a crisis statement.
 */
async function firstTime(deps: DiscordListenerDeps, key: string, ttl: number): Promise<boolean> {
  return deps.marks.setIfAbsent(key, ttl).catch(() => true);
}
async function marked(deps: DiscordListenerDeps, key: string): Promise<boolean> {
  return deps.marks.exists(key).catch(() => false);
}

/** Discord error codes meaning "not allowed here" (missing access / permissions). */
const PERMISSION_ERRORS = new Set([50001, 50013]);

export function sessionIdFor(m: { guildId: string | null; channelId: string }): string {
  return m.guildId ? `discord:${m.guildId}:${m.channelId}` : `discord:dm:${m.channelId}`;
}

/** Installs the gateway guard, then the listeners (never one without the other). */
export function registerDiscordListeners(client: Client, deps: DiscordListenerDeps): void {
  guardGateway(client, deps.logger, deps.onEdgeDrop);
  client.on(Events.MessageCreate, (message) => {
    try {
      onMessage(client, deps, message).catch((err: unknown) =>
        deps.logger.error({ err: errorCode(err), channel: message.channelId }, 'Discord turn failed'),
      );
    } catch (err) {
      deps.logger.error({ err: errorCode(err) }, 'Discord turn failed');
    }
  });

  client.on(Events.InteractionCreate, (interaction) => {
    const failed = (err: unknown) => {
      // Only /trt's shape was checked whole: another interaction's channel id may be anything.
      deps.logger.error({ err: errorCode(err), ...(isSnowflake(interaction.channelId) ? { channel: interaction.channelId } : {}) }, 'Discord command failed');
      // Not answered yet: an answer now, rather than "The application did not respond".
      if (interaction.isRepliable() && !interaction.replied && !interaction.deferred) {
        interaction.reply({ content: deps.engine.texts.unavailable, flags: MessageFlags.Ephemeral }).catch(() => undefined);
      }
    };
    try {
      const episode = deps.alerts && interaction.isButton() ? alertEpisodeOf(interaction.customId) : undefined;
      if (interaction.isChatInputCommand() && interaction.commandName === 'trt') onCommand(deps, interaction).catch(failed);
      else if (episode && deps.alerts && interaction.isButton()) onAlertButton({ alerts: deps.alerts, logger: deps.logger }, interaction, episode).catch(failed);
      else answerUnhandled(interaction).catch(failed);
    } catch (err) {
      failed(err);
    }
  });
}

/**
 * An interaction that is not /trt (another command, a context menu, a button or select the
 * bot never sent, autocomplete, a modal): the answer Discord expects that changes nothing.
 */
async function answerUnhandled(interaction: Interaction): Promise<void> {
  if (interaction.isAutocomplete()) return interaction.respond([]);
  if (interaction.isMessageComponent()) return void (await interaction.deferUpdate());
  if (interaction.isRepliable()) return void (await interaction.reply({ content: UNHANDLED_REPLY, flags: MessageFlags.Ephemeral }));
}

/** Discord wants an answer to an interaction within 3 s; a turn waiting on a busy session may take longer. */
const INTERACTION_DEADLINE_MS = 2000;

async function onCommand(deps: DiscordListenerDeps, interaction: ChatInputCommandInteraction): Promise<void> {
  // The 3-second clock runs from the interaction's creation, not from here.
  const deadline = interaction.createdTimestamp + INTERACTION_DEADLINE_MS;
  const sub = interaction.options.getSubcommand(false) ?? 'help';
  const channel = interaction.channel;
  const ours =
    !interaction.guildId ||
    (channel?.isThread() === true && channel.ownerId === interaction.client.user.id) ||
    (await marked(deps, `discord:thread:${interaction.channelId}`));
  // Where we talk, `help` is a turn like the rest: its crisis lines are the person's country's
  // (their setting, else this interaction's locale), which only the turn knows.
  if (!ours) {
    const content = deps.engine.texts.help + (sub === 'help' ? '' : '\n\nUse this command in our direct messages or in the thread where we talk.');
    await interaction.reply({ content: splitMessage(content, DISCORD_MAX)[0]!, flags: MessageFlags.Ephemeral });
    return;
  }
  const turn = deps.engine.handleTurn({
    sessionId: sessionIdFor({ guildId: interaction.guildId, channelId: interaction.channelId }),
    userId: interaction.user.id,
    platform: 'discord',
    text: sub,
    tenant: interaction.guildId ?? undefined,
    // An alert raised by `/trt human` names the channel (a slash command has no message to link to).
    origin: { replyTo: { channelId: interaction.channelId } },
    // Discord says the person's client locale on interactions ('en-AU'); a bare language says no country.
    platformCountry: countryFromLocale(interaction.locale),
    direct: interaction.guildId === null,
  });
  const wait = Math.max(0, deadline - Date.now());
  const quick = await Promise.race([turn, new Promise<null>((r) => setTimeout(() => r(null), wait))]);
  if (quick) {
    await interaction.reply({ content: splitMessage(quick.reply ?? 'Done.', DISCORD_MAX)[0]!, flags: MessageFlags.Ephemeral });
    return;
  }
  await interaction.deferReply({ flags: MessageFlags.Ephemeral }); // "thinking...", then the answer
  const result = await turn.catch(() => null);
  await interaction.editReply({ content: splitMessage(result?.reply ?? deps.engine.texts.unavailable, DISCORD_MAX)[0]! });
}

async function onMessage(client: Client, deps: DiscordListenerDeps, message: Message): Promise<void> {
  if (message.author.bot || message.system) return;
  if (message.type !== MessageType.Default && message.type !== MessageType.Reply) return;
  const me = client.user!.id;
  let text = message.content.replace(new RegExp(`<@!?${me}>`, 'g'), ' ').replace(/\s+/g, ' ').trim();

  // Where the conversation lives; relevance is checked before dedupe, so chatter costs no mark.
  let channel: SendableChannels | undefined;
  let opensThread = false;
  if (!message.guildId) {
    channel = message.channel as SendableChannels; // a DM
  } else if (message.channel.isThread() && (message.channel.ownerId === me || (await marked(deps, `discord:thread:${message.channelId}`)))) {
    channel = message.channel;
  } else if (message.mentions.users.has(me)) {
    if (message.channel.type === ChannelType.GuildText) opensThread = true;
    else channel = undefined; // mentioned where no thread can be opened: answered below
  } else {
    return;
  }
  if (opensThread) {
    // Opening a thread is not idempotent: a replayed event must not open a second one.
    if (!(await firstTime(deps, `discord:msg:${message.id}`, DEDUPE_TTL_SECONDS))) return;
    try {
      channel = await openThread(message);
      await firstTime(deps, `discord:thread:${channel.id}`, THREAD_TTL_SECONDS);
    } catch (err) {
      deps.logger.warn({ err: errorCode(err), channel: message.channelId }, 'could not open a thread; answering in place');
      channel = undefined;
    }
  }
  if (!channel) {
    // No thread here (another channel kind, or no permission): point to DMs, but a risk statement
    // first gets the fixed crisis response.
    const crisis = deps.engine.crisisResponse(text);
    const pointer = `${deps.engine.texts.disclosure}\n\nI can't open a private thread here. Please send me a direct message to talk.`;
    await message.reply({ content: splitMessage(crisis ? `${crisis}\n\n${pointer}` : pointer, DISCORD_MAX)[0]!, allowedMentions: { parse: [] } });
    return;
  }
  if (!text) text = 'hello'; // a bare mention opens the conversation
  const sessionId = message.guildId ? `discord:${message.guildId}:${channel.id}` : `discord:dm:${message.channelId}`;
  // A thread's first message sits in the parent channel: an alert's message link needs that channel.
  const replyTo: DiscordReplyTo = { channelId: channel.id, ...(message.channelId !== channel.id ? { messageChannelId: message.channelId } : {}) };
  // Deduped by message id across instances (a gateway replay after RESUME is no second turn).
  // The person is told the truth if it could not be queued ("try again" only when it was not stored).
  await enqueueHonestly(
    {
      queue: deps.queue,
      tell: (reply) => channel.send({ content: splitMessage(reply, DISCORD_MAX)[0]!, allowedMentions: { parse: [] } }).catch((err: unknown) => deps.logger.error({ sessionId, err: errorCode(err) }, 'Discord notice not delivered')),
      crisisResponse: (t) => deps.engine.crisisResponse(t),
      texts: deps.engine.texts,
      logger: deps.logger,
    },
    { id: message.id, sessionId, userId: message.author.id, platform: 'discord', tenant: message.guildId ?? undefined, text, replyTo, receivedAt: Date.now(), ...discordOrder(message.id), direct: message.guildId === null },
  );
}

/** A private thread where the server allows it (the person is added), else a public thread on the message. */
async function openThread(message: Message): Promise<SendableChannels & { id: string }> {
  const name = `Guide with ${message.author.username || 'you'}`.slice(0, 90);
  if (message.channel.type === ChannelType.GuildText) {
    let thread;
    try {
      thread = await message.channel.threads.create({ name, type: ChannelType.PrivateThread, invitable: false, reason: 'private guided conversation' });
      await thread.members.add(message.author.id);
      return thread;
    } catch (err) {
      // Only "not allowed here" falls back to a public thread: a timeout must not make a private talk public.
      if (!PERMISSION_ERRORS.has((err as { code?: number }).code ?? -1)) throw err;
      await thread?.delete().catch(() => undefined);
    }
  }
  return message.startThread({ name });
}
