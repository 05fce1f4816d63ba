/**
 * What the Discord process tests share (alerts-process, settings-process): a fake Discord and a
 * Redis prefix per test, the bot's environment, a person in a DM waiting for each answer, and
 * `/trt` answered ephemerally.
 */
import { expect } from 'vitest';
import { BotProcess, processEnv } from '../queue/bot-process.js';
import { APP_ID, FakeDiscord, message, nowSnowflake, person, slashCommand } from '../fakes/discord.js';
import { REDIS_URL, cleanup, client, uniquePrefix } from '../redis/helpers.js';
import { useStops } from '../stops.js';
import { until } from '../wait.js';

/** The outlet's mark of a reply still being written (none with the offline responder, but never counted as an answer). */
export const WRITING = ' …';
export const EPHEMERAL = 64;

/** One bot process's environment: Discord only, Redis under `prefix`, the offline responder, no alerts unless `extra` sets them. */
export function discordEnv(api: string, prefix: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...processEnv(REDIS_URL, prefix),
    DISCORD_BOT_TOKEN: 'fake.discord.token.for.tests',
    DISCORD_API_URL: api,
    ...extra,
  };
}

/** Started: connected to the gateway, the queue worker running, then the alerts line (the last). */
export const discordReady = (s: string): boolean => s.includes('Discord adapter connected') && s.includes('queue worker started') && s.includes('"msg":"safety alerts"');

/** Per test: a fake Discord and a Redis prefix with a client on it; bot processes; all stopped and removed after the test. */
export function useDiscordWorlds() {
  const defer = useStops();
  return {
    defer,
    async world() {
      const fake = new FakeDiscord();
      const api = await fake.start();
      const prefix = uniquePrefix();
      const redis = client();
      defer(async () => {
        await fake.stop();
        await cleanup(prefix);
        redis.disconnect();
      });
      return { fake, api, prefix, redis };
    },
    async bot(name: string, env: Record<string, string>): Promise<BotProcess> {
      const b = await BotProcess.start(name, env, [], discordReady);
      defer(() => b.terminate());
      return b;
    },
  };
}

/** A person in a DM with the bot: each `say` dispatches a message and waits for the answer in the DM. */
export function dmWith(fake: FakeDiscord, channel: string, author = person()) {
  const replies = () => fake.visible(channel).map((m) => m.content);
  return {
    replies,
    payload: (content: string) => message({ channel_id: channel, content, author, id: nowSnowflake() }),
    /** Sends `text` (or a prepared payload, to every instance with `all`) and returns the answer. */
    async say(text: string, opts: { prepared?: ReturnType<typeof message>; all?: boolean } = {}): Promise<string> {
      const before = replies().length;
      const d = opts.prepared ?? this.payload(text);
      if (opts.all) fake.dispatchAll('MESSAGE_CREATE', d);
      else fake.dispatch('MESSAGE_CREATE', d);
      await until(() => replies().length > before && replies().every((r) => !r.endsWith(WRITING)), { timeoutMs: 15_000, what: () => `the answer in ${channel}; it shows ${JSON.stringify(replies())}` });
      return replies().slice(before).join('\n');
    },
  };
}

/** Sends `/trt <sub>` (from a client whose locale is `locale`, when given) and returns its answer (at once, or the deferral's edit); checks it is ephemeral. */
export async function trt(fake: FakeDiscord, sub: string, channelId: string, user: ReturnType<typeof person>, locale?: string): Promise<string> {
  const i = { ...slashCommand(sub, { channelId }, user), id: nowSnowflake(), ...(locale ? { locale } : {}) }; // created now: the 3 s clock runs
  fake.dispatch('INTERACTION_CREATE', i);
  const [callback] = await until(() => fake.callbacksFor(i.id).length > 0 && fake.callbacksFor(i.id), { timeoutMs: 15_000, what: `the answer to /trt ${sub}` });
  const data = callback!.body.data as { flags?: number; content?: string };
  expect((data.flags ?? 0) & EPHEMERAL).toBe(EPHEMERAL);
  if (callback!.body.type === 4) return data.content!;
  const [patched] = await fake.waitFor('PATCH', new RegExp(`^/webhooks/${APP_ID}/${i.token}/messages/@original$`), 1, 15_000);
  return String(patched!.body.content);
}
