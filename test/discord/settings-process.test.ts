/**
 * Per-person preferences end to end on Discord: the real entry point (`node adapters/main.ts`) as
 * a process against the fake Discord (gateway and REST), on the machine's Redis under a unique
 * prefix per test. `settings` shows and changes them in a DM (invalid values get the one line
 * saying what is accepted); and the country whose crisis lines come first is the person's
 * setting, else Discord's interaction locale on `/trt` (`en-AU`), else none.
 */
import { afterEach, expect, it } from 'vitest';
import { BotProcess } from '../queue/bot-process.js';
import { APP_ID, FakeDiscord, message, nowSnowflake, person, slashCommand } from '../fakes/discord.js';
import { repoConfig } from '../helpers.js';
import { REDIS_URL, cleanup, client, uniquePrefix } from '../redis/helpers.js';
import { until } from '../wait.js';

const settings = repoConfig().responses.settings;
const AU = 'Lifeline on 13 11 14';
const NZ = 'call or text 1737';
const UK = 'text SHOUT to 85258';
/** The generic lines, after any country's (the first message's disclosure names it too: compare the last). */
const GENERIC = 'findahelpline.com';
const INVALID = settings.invalid.split('(')[0]!;
/** The outlet's mark of a reply still being written (never counted as an answer). */
const WRITING = ' …';
const EPHEMERAL = 64;

const stops: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

/** A fake Discord, a Redis prefix with a client on it, and one bot process on both; all removed after the test. */
async function world() {
  const fake = new FakeDiscord();
  const api = await fake.start();
  const prefix = uniquePrefix();
  const redis = client();
  stops.push(async () => {
    await fake.stop();
    await cleanup(prefix);
    redis.disconnect();
  });
  const env = {
    DISCORD_BOT_TOKEN: 'fake.discord.token.for.tests',
    DISCORD_API_URL: api,
    SLACK_BOT_TOKEN: '',
    SLACK_APP_TOKEN: '',
    REDIS_URL,
    REDIS_CLUSTER_NODES: '',
    REDIS_SENTINELS: '',
    REDIS_KEY_PREFIX: prefix,
    RESPONDER: 'offline',
    OPENAI_API_KEY: '',
    OPENAI_BASE_URL: '',
    SAFETY_ALERT_DISCORD_CHANNEL: '',
    SAFETY_ALERT_TEAM_NAME: '',
    SAFETY_ALERT_SLACK_CHANNEL: '',
    SAFETY_ALERT_WEBHOOK_URL: '',
  };
  const ready = (s: string) => s.includes('Discord adapter connected') && s.includes('queue worker started');
  const b = await BotProcess.start('settings', env, [], ready);
  stops.push(() => b.terminate());
  return { fake, prefix, redis, bot: b };
}

/** A person in a DM with the bot: each `say` dispatches a message and returns the answer. */
function dmWith(fake: FakeDiscord, channel: string, author: ReturnType<typeof person>) {
  const replies = () => fake.visible(channel).map((m) => m.content);
  return {
    async say(text: string): Promise<string> {
      const before = replies().length;
      fake.dispatch('MESSAGE_CREATE', message({ channel_id: channel, content: text, author, id: nowSnowflake() }));
      await until(() => replies().length > before && replies().every((r) => !r.endsWith(WRITING)), { timeoutMs: 15_000, what: () => `the answer in ${channel}; it shows ${JSON.stringify(replies())}` });
      return replies().slice(before).join('\n');
    },
  };
}

/** `/trt <sub>` in the DM `channelId`, from a client whose locale is `locale`: its ephemeral answer (at once, or the deferral's edit). */
async function trt(fake: FakeDiscord, sub: string, channelId: string, user: ReturnType<typeof person>, locale: string): Promise<string> {
  const i = { ...slashCommand(sub, { channelId }, user), id: nowSnowflake(), locale }; // created now: the 3 s clock runs
  fake.dispatch('INTERACTION_CREATE', i);
  const [callback] = await until(() => fake.callbacksFor(i.id).length > 0 && fake.callbacksFor(i.id), { timeoutMs: 15_000, what: `the answer to /trt ${sub}` });
  const data = callback!.body.data as { flags?: number; content?: string };
  expect((data.flags ?? 0) & EPHEMERAL).toBe(EPHEMERAL);
  if (callback!.body.type === 4) return data.content!;
  const [patched] = await fake.waitFor('PATCH', new RegExp(`^/webhooks/${APP_ID}/${i.token}/messages/@original$`), 1, 15_000);
  return String(patched!.body.content);
}

const prefsKey = (prefix: string, user: string) => `${prefix}:user:{discord:${user}}:prefs`;

it('settings round trip in a DM: `settings country NZ` puts New Zealand first, `settings` says so, invalid values get one line; kept in the prefs hash', async () => {
  const { fake, prefix, redis } = await world();
  const who = person('400000000000000401');
  const dm = dmWith(fake, '600000000000000401', who);

  expect(await dm.say('settings')).toContain(`Country for crisis lines: ${settings.country_none}`);
  const set = await dm.say('settings country NZ');
  expect(set).toMatch(/^Done\./);
  expect(set).toContain(NZ);
  await until(async () => (await redis.hget(prefsKey(prefix, who.id), 'country')) === 'NZ', { what: 'the prefs hash to hold country NZ' });
  expect(await dm.say('settings')).toContain('Country for crisis lines: New Zealand (you chose it)');

  for (const wrong of ['settings country XX', 'settings colour blue']) {
    const reply = await dm.say(wrong);
    expect(reply, wrong).toContain(INVALID);
    expect(reply, wrong).not.toContain('\n');
  }
  expect(await redis.hget(prefsKey(prefix, who.id), 'country')).toBe('NZ');

  const help = await dm.say('help');
  expect(help).toContain(NZ);
  expect(help.indexOf(NZ)).toBeLessThan(help.lastIndexOf(GENERIC));
});

it("the country: Discord's interaction locale on /trt help (en-AU) until the person chooses; their choice wins over it", async () => {
  const { fake, prefix, redis } = await world();
  const who = person('400000000000000402');
  const channel = '600000000000000402';

  // Nothing chosen: the client's locale says Australia.
  const first = await trt(fake, 'help', channel, who, 'en-AU');
  expect(first).toContain(AU);
  expect(first.indexOf(AU)).toBeLessThan(first.lastIndexOf(GENERIC));
  // Another person, whose client says only a language: no country, the generic lines only.
  const bare = await trt(fake, 'help', '600000000000000403', person('400000000000000403'), 'de');
  expect(bare).toContain(GENERIC);
  expect(bare).not.toContain(AU);
  expect(bare).not.toContain('if you are in immediate danger'); // no country's emergency line either

  // Discord's word is kept in the person's prefs: a DM message (which carries no locale) goes by it too.
  await until(async () => (await redis.hget(prefsKey(prefix, who.id), 'platform_country')) === 'AU', { what: "the prefs to keep Discord's word (AU)" });
  const dm = dmWith(fake, channel, who);
  expect(await dm.say('help')).toContain(AU);

  const set = await dm.say('settings country GB');
  expect(set).toContain('Done.');
  expect(set).toContain(UK);
  await until(async () => (await redis.hget(prefsKey(prefix, who.id), 'country')) === 'GB', { what: 'the prefs hash to hold country GB' });

  const after = await trt(fake, 'help', channel, who, 'en-AU');
  expect(after).toContain(UK);
  expect(after).not.toContain(AU);
  expect(after.indexOf(UK)).toBeLessThan(after.lastIndexOf(GENERIC));
});
