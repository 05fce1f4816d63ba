/**
 * Per-person preferences end to end on Slack: the real entry point (`node adapters/main.ts`) as a
 * process in HTTP mode, on the machine's Redis under a unique prefix per test, against the fake
 * Slack. `settings` shows and changes them in a DM (invalid values get the one line saying what
 * is accepted), they are kept in the person's prefs hash until `forget`; and the country whose
 * crisis lines come first is the person's setting, else what their Slack profile says (users.info,
 * asked once), else none: a users.info failure costs only that hint, never the answer.
 */
import { expect, it } from 'vitest';
import { repoConfig } from '../helpers.js';
import { until } from '../wait.js';
import { sendCommand } from '../fakes/slack.js';
import { CRISIS, SECRET, botEnv, dmSender, useWorlds } from './alert-process.js';

const settings = repoConfig().responses.settings;
const AU = 'Lifeline on 13 11 14';
const NZ = 'call or text 1737';
const UK = 'text SHOUT to 85258';
/** The generic lines every crisis text carries, after any country's (the first message's disclosure names it too: compare the last). */
const GENERIC = 'findahelpline.com';
/** The one line `settings` answers anything it does not accept with. */
const INVALID = settings.invalid.split('(')[0]!; // "I can change: `settings country` and a two-letter code "
/** No alert destination: these tests are about the person's own answers. */
const NO_ALERTS = { SAFETY_ALERT_SLACK_CHANNEL: '', SAFETY_ALERT_TEAM_NAME: '' };

const { world, bot } = useWorlds();

const prefsKey = (prefix: string, user: string) => `${prefix}:user:{slack:${user}}:prefs`;
const last = (dm: { replies(): string[] }) => dm.replies().at(-1)!;
/** users.info calls for one user. */
const asked = (slack: { of(m: string): Array<{ args: Record<string, unknown> }> }, user: string) => slack.of('users.info').filter((c) => c.args.user === user).length;

it('settings round trip in a DM: shown, `settings country AU` puts Lifeline first (in the crisis response too), invalid values get one line; kept in the prefs hash until forget', async () => {
  const { slack, api, prefix, redis } = await world();
  const b = await bot('settings', botEnv(api, prefix, NO_ALERTS));
  const dm = dmSender(slack, b.url, 'D0SET', 'U0SET');

  // Nothing chosen, and the fake's profile says no time zone: the general lines.
  await dm.say('settings');
  expect(last(dm)).toContain('Your settings:');
  expect(last(dm)).toContain(`Country for crisis lines: ${settings.country_none}`);
  expect(await redis.exists(prefsKey(prefix, 'U0SET'))).toBe(0);

  await dm.say('settings country AU');
  expect(last(dm)).toMatch(/^Done\./);
  expect(last(dm)).toContain(AU);
  // Written after the reply went out: waited for, not assumed.
  await until(async () => (await redis.hget(prefsKey(prefix, 'U0SET'), 'country')) === 'AU', { what: 'the prefs hash to hold country AU' });

  await dm.say('settings');
  expect(last(dm)).toContain('Country for crisis lines: Australia (you chose it)');

  // Invalid values: the one line saying what is accepted, and nothing changes.
  for (const wrong of ['settings country XX', 'settings colour blue']) {
    await dm.say(wrong);
    expect(last(dm), wrong).toContain(INVALID);
    expect(last(dm), wrong).toContain('AU, CA, DE');
    expect(last(dm), wrong).not.toContain('\n');
  }
  expect(await redis.hget(prefsKey(prefix, 'U0SET'), 'country')).toBe('AU');

  // The fixed crisis response: Australia's lines, then the generic ones, all of them.
  await dm.say(CRISIS);
  const crisis = last(dm);
  expect(crisis).toContain(AU);
  expect(crisis).toContain('988');
  expect(crisis).toContain(GENERIC);
  expect(crisis.indexOf(AU)).toBeLessThan(crisis.indexOf('988'));
  expect(crisis.indexOf(AU)).toBeLessThan(crisis.lastIndexOf(GENERIC));

  // forget + yes: the prefs go with everything else.
  await dm.say('forget');
  await dm.say('yes');
  expect(last(dm)).toContain(repoConfig().responses.commands.forget_done);
  await until(async () => (await redis.exists(prefsKey(prefix, 'U0SET'))) === 0, { what: 'the prefs hash to be erased' });
  expect(b.stderr).not.toContain('kill myself');
});

it("the country: the Slack profile's time zone (users.info, asked once) until the person chooses; their choice wins", async () => {
  const { slack, api, prefix, redis } = await world();
  slack.users.set('U0KIWI', { tz: 'Pacific/Auckland', locale: 'en-US' });
  const b = await bot('country', botEnv(api, prefix, NO_ALERTS));
  const dm = dmSender(slack, b.url, 'D0KIWI', 'U0KIWI');

  // Nothing set: New Zealand's lines, on Slack's word, ahead of the generic line.
  await dm.say('help');
  const help = last(dm);
  expect(help).toContain(NZ);
  expect(help.indexOf(NZ)).toBeLessThan(help.lastIndexOf(GENERIC));
  expect(help).not.toContain(AU);
  await dm.say('settings');
  expect(last(dm)).toContain('Country for crisis lines: New Zealand (from what Slack says about where you are)');
  await until(async () => (await redis.hget(prefsKey(prefix, 'U0KIWI'), 'platform_country')) === 'NZ', { what: "the prefs to keep Slack's word (NZ)" });
  expect(await redis.hget(prefsKey(prefix, 'U0KIWI'), 'platform_time_zone')).toBe('Pacific/Auckland');
  expect(await redis.hget(prefsKey(prefix, 'U0KIWI'), 'country')).toBeNull();

  // The person's own setting wins over the platform's word.
  await dm.say('settings country GB');
  expect(last(dm)).toMatch(/^Done\./);
  expect(last(dm)).toContain(UK);
  await dm.say('help');
  expect(last(dm)).toContain(UK);
  expect(last(dm)).not.toContain(NZ);
  await dm.say(CRISIS);
  expect(last(dm)).toContain(UK);
  expect(last(dm)).not.toContain(NZ);

  // /trt help in the DM is a turn too: the person's choice first.
  const { body } = await sendCommand(b.url, SECRET, { text: 'help', channel_id: 'D0KIWI', user_id: 'U0KIWI' });
  expect(body.text).toContain(UK);
  expect(body.text).not.toContain(NZ);

  // Six requests, one users.info for this person (kept in the process).
  expect(asked(slack, 'U0KIWI')).toBe(1);
  expect(slack.of('users.info')[0]!.args.include_locale).toBe('true');
});

it('a users.info failure costs only the hint: the message is answered with the generic lines; Slack is asked again next time', async () => {
  const { slack, api, prefix } = await world();
  slack.users.set('U0FAIL', { tz: 'Pacific/Auckland' });
  slack.failures.set('users.info', { times: 1, error: 'missing_scope' });
  const b = await bot('failure', botEnv(api, prefix, NO_ALERTS));
  const dm = dmSender(slack, b.url, 'D0FAIL', 'U0FAIL');

  await dm.say(CRISIS);
  const crisis = last(dm);
  expect(crisis).toContain('988');
  expect(crisis).toContain('116 123');
  expect(crisis).toContain(GENERIC);
  expect(crisis).not.toContain(NZ);
  expect(b.stderr).toMatch(/"err":"missing_scope".*Slack users\.info failed/);
  expect(b.stderr).not.toContain('kill myself');

  // The failure was not kept: the next message asks again, and gets New Zealand's lines.
  await dm.say('help');
  expect(last(dm)).toContain(NZ);
  expect(asked(slack, 'U0FAIL')).toBe(2);
});
