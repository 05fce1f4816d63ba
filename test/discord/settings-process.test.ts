/**
 * Per-person preferences end to end on Discord: the real entry point (`node adapters/main.ts`) as
 * a process against the fake Discord (gateway and REST), on the machine's Redis under a unique
 * prefix per test. `settings` shows and changes them in a DM (invalid values get the one line
 * saying what is accepted); and the country whose crisis lines come first is the person's
 * setting, else Discord's interaction locale on `/trt` (`en-AU`), else none.
 */
import { expect, it } from 'vitest';
import { person } from '../fakes/discord.js';
import { repoConfig } from '../helpers.js';
import { until } from '../wait.js';
import { discordEnv, dmWith, trt, useDiscordWorlds } from './process-world.js';

const settings = repoConfig().responses.settings;
const AU = 'Lifeline on 13 11 14';
const NZ = 'call or text 1737';
const UK = 'text SHOUT to 85258';
/** The generic lines, after any country's (the first message's disclosure names it too: compare the last). */
const GENERIC = 'findahelpline.com';
const INVALID = settings.invalid.split('(')[0]!;

const worlds = useDiscordWorlds();

/** A fake Discord, a Redis prefix with a client on it, and one bot process on both (no alerts); all removed after the test. */
async function world() {
  const w = await worlds.world();
  const bot = await worlds.bot('settings', discordEnv(w.api, w.prefix));
  return { ...w, bot };
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
