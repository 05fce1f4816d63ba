/**
 * Builds the discord.js client: intents Guilds, GuildMessages, MessageContent
 * and DirectMessages, Partials.Channel (DM channels arrive uncached), REST base
 * from DISCORD_API_URL, and optional sharding (this process runs the shard ids
 * given, of DISCORD_SHARD_COUNT).
 */
import { Client, Events, GatewayIntentBits, Partials, SlashCommandBuilder } from 'discord.js';
import { MemoryTurnQueue, countDuplicates } from '../../src/index.js';
import type { AdapterDeps } from '../common/adapter-deps.js';
import { registerDiscordListeners } from './listeners.js';
import { DiscordOutlet } from './outlet.js';

export interface DiscordSettings {
  token: string;
  /** REST base, e.g. http://127.0.0.1:8080/api (tests, proxies). */
  apiUrl?: string | undefined;
  /** Shard ids this process runs, and the total; both unset: one shard. */
  shards?: number[] | undefined;
  shardCount?: number | undefined;
}

export interface DiscordRunner {
  client: Client;
  /** Posts queued turns' replies (a worker in this process uses it). */
  outlet: DiscordOutlet;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** The /trt command, as registered by `npm run discord:register`. */
export const trtCommand = new SlashCommandBuilder()
  .setName('trt')
  .setDescription('The self-help guide: help, status, summary, breathe, a person, start over, or erase your data')
  .addSubcommand((s) => s.setName('help').setDescription('What this is, the commands, and crisis lines'))
  .addSubcommand((s) => s.setName('status').setDescription('Where you are in the process'))
  .addSubcommand((s) => s.setName('summary').setDescription("What you've found so far, and what's still open"))
  .addSubcommand((s) => s.setName('breathe').setDescription('The short relaxation, any time'))
  .addSubcommand((s) => s.setName('human').setDescription('Ask for a person from the support team to reach out'))
  .addSubcommand((s) => s.setName('reset').setDescription('Start over from the beginning'))
  .addSubcommand((s) => s.setName('forget').setDescription('Erase everything stored about you (asks to confirm)'));

export interface DiscordDeps extends AdapterDeps {
  /** Tests: send "typing" more often. */
  typingEveryMs?: number;
}

function defaultQueue(deps: DiscordDeps, outlet: DiscordOutlet): MemoryTurnQueue {
  const queue = new MemoryTurnQueue({ engine: deps.engine, outlets: { discord: outlet }, logger: deps.logger, limits: deps.limits, limitedReply: deps.limitedReply, onReplied: deps.metrics?.replied, orderWindowMs: deps.orderWindowMs });
  return deps.metrics ? countDuplicates(queue, deps.metrics) : queue;
}

export function createDiscordClient(settings: DiscordSettings, deps: DiscordDeps): DiscordRunner {
  const client = new Client({
    intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages, GatewayIntentBits.MessageContent, GatewayIntentBits.DirectMessages],
    partials: [Partials.Channel],
    ...(settings.apiUrl ? { rest: { api: settings.apiUrl } } : {}),
    ...(settings.shards ? { shards: settings.shards } : {}),
    ...(settings.shardCount ? { shardCount: settings.shardCount } : {}),
  });
  const outlet = new DiscordOutlet(client.rest, deps.logger, deps.typingEveryMs);
  const queue = deps.queue ?? defaultQueue(deps, outlet);
  registerDiscordListeners(client, { engine: deps.engine, marks: deps.marks, queue, logger: deps.logger, onEdgeDrop: () => deps.onEdgeReject?.('malformed'), alerts: deps.alerts });
  client.on('error', (err) => deps.logger.error({ err: err.name }, 'Discord client error'));
  client.rest.on('rateLimited', (info) => deps.logger.warn({ route: info.route, retryAfter: info.retryAfter }, 'Discord rate limit; that route waits'));
  return {
    client,
    outlet,
    async start() {
      const ready = new Promise<void>((resolve) => client.once(Events.ClientReady, () => resolve()));
      await client.login(settings.token);
      await ready;
    },
    async stop() {
      // The in-process queue first: its replies need the client's REST token, which destroy() clears.
      if (queue instanceof MemoryTurnQueue) await queue.stop(5000);
      await client.destroy();
    },
  };
}
