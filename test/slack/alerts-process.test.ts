/**
 * Safety alerts end to end on Slack: the real entry point (`node adapters/main.ts`) as
 * processes in HTTP mode, on the machine's Redis under a unique prefix per test, against the
 * fake Slack. A crisis DM alerts the responders' channel once (a redelivery, a second instance
 * and a second risk statement in the same stay included), the person is told only what is
 * true, `human` asks for a person, and nothing of what the person wrote reaches the alert or
 * the logs. The "I'm on it" button is in alerts-ack-process.test.ts.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { sendCommand, sendSigned } from '../fakes/slack.js';
import { CONFIG_DIR, repoConfig } from '../helpers.js';
import { until } from '../wait.js';
import { ALERTS, CRISIS, SECRET, TEAM_NAME, alertsIn, botEnv, dmSender, settled, useWorlds } from './alert-process.js';

const texts = repoConfig().safety.alerts;
const TOLD = texts.told.replace('{team}', TEAM_NAME);
/** The words of every message the tests send that must never leave the DM (alerts, logs). */
const PRIVATE = ['kill', 'end my life', 'partner'];

const { world, bot } = useWorlds();
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** The posted alert's mrkdwn section and its buttons, as one string to search. */
const shown = (m: { text: string; blocks?: unknown[] | undefined }) => `${m.text}\n${JSON.stringify(m.blocks ?? [])}`;

function expectNoPrivateWords(where: string, what: string): void {
  for (const w of PRIVATE) expect(where.toLowerCase(), `${what} holds "${w}"`).not.toContain(w);
}

it('a crisis DM alerts the responders once, with the button, the kind and a permalink but not the words; the person is told; /metrics counts it', async () => {
  const { slack, api, prefix, queue } = await world();
  const b = await bot('one', botEnv(api, prefix));
  const dm = dmSender(slack, b.url, 'D0CRISIS', 'U0PERSON');
  const { ts } = await dm.say(CRISIS);
  await settled(queue);

  const sent = alertsIn(slack);
  expect(sent).toHaveLength(1);
  const alert = sent[0]!;
  const actions = (alert.blocks as Array<{ type: string; elements?: Array<Record<string, unknown>> }>).find((x) => x.type === 'actions');
  expect(actions?.elements).toEqual([expect.objectContaining({ type: 'button', action_id: 'safety_ack', text: expect.objectContaining({ text: "I'm on it" }), value: expect.stringMatching(/^ep_[0-9a-f]{16}$/) })]);
  expect(alert.text).toContain('The crisis protocol fired');
  expect(alert.text).toContain('Kind: crisis statement');
  expect(alert.text).toContain('Person: <@U0PERSON>');
  // The permalink of the DM message that fired the protocol, asked for once.
  expect(slack.of('chat.getPermalink').map((c) => c.args)).toEqual([expect.objectContaining({ channel: 'D0CRISIS', message_ts: ts })]);
  expect(alert.text).toContain(`Conversation: https://fake.slack.com/archives/D0CRISIS/p${ts.replace('.', '')}`);
  expectNoPrivateWords(shown(alert), 'the alert');

  // The person reads the crisis response, with the line that says who was told.
  expect(dm.replies()).toHaveLength(1);
  const reply = dm.replies()[0]!;
  expect(reply).toContain('988');
  expect(reply).toContain(TOLD);
  expect(reply.indexOf(TOLD)).toBeLessThan(reply.lastIndexOf('\n') + 1); // before the closing question
  expectNoPrivateWords(b.stderr, 'stderr');

  // /metrics beside /slack/events (the counter goes up just after the job is settled).
  const metrics = await until(async () => {
    const text = await (await fetch(`http://127.0.0.1:${b.port}/metrics`)).text();
    return /^trt_safety_alerts_total\{outcome="sent"\} [1-9]/m.test(text) && text;
  });
  expect(metrics).toMatch(/^trt_safety_alerts_total\{outcome="sent"\} 1$/m);
  expect(metrics).toMatch(/^trt_safety_alerts_total\{outcome="raised"\} 1$/m);
  expect(metrics).not.toMatch(/^trt_safety_alerts_total\{outcome="(duplicate|retried|failed)"\} [1-9]/m);
});

it('one alert per stay: a redelivery to a second instance, a second risk statement; after the release a new crisis alerts again', async () => {
  const { slack, api, prefix, queue } = await world();
  const [a, b] = await Promise.all([bot('a', botEnv(api, prefix)), bot('b', botEnv(api, prefix))]);
  const dm = dmSender(slack, a.url, 'D0STAY', 'U0STAY');
  const first = dm.event(CRISIS);
  // Slack retries a delivery it thinks was lost; here the retry reaches the other instance at the same time.
  const [sentFirst, sentRetry] = await Promise.all([dm.say(CRISIS, { prepared: first }), sendSigned(b.url, first.body, SECRET, { retryNum: 1 })]);
  expect(sentFirst).toBe(first);
  expect(sentRetry.status).toBe(200);
  // Once more, later, to the first instance.
  expect((await sendSigned(a.url, first.body, SECRET, { retryNum: 2 })).status).toBe(200);

  // Still in the stay: a second risk statement is answered (and says the team knows) without a new alert.
  // Its answer also proves the redeliveries are behind us: the person's messages are answered in order.
  await dm.say('I really want to end my life', { to: b.url });
  await settled(queue);
  expect(dm.replies()).toHaveLength(2);
  expect(dm.replies()[1]).toContain(TOLD);
  expect(alertsIn(slack)).toHaveLength(1);
  expect(slack.of('chat.getPermalink')).toHaveLength(1);

  // Two safe statements end the stay; a new crisis is a new episode.
  await dm.say("I'm safe");
  await dm.say('I am safe now, my partner is here', { to: b.url });
  const again = await dm.say(CRISIS, { to: b.url });
  await settled(queue);
  expect(dm.replies()).toHaveLength(5);
  expect(dm.replies()[4]).toContain(TOLD);
  const sent = alertsIn(slack);
  expect(sent).toHaveLength(2);
  const episodes = sent.map((m) => /Episode: (ep_[0-9a-f]{16})/.exec(m.text)?.[1]);
  expect(new Set(episodes).size).toBe(2);
  expect(sent[1]!.text).toContain(`/archives/D0STAY/p${again.ts.replace('.', '')}`);
  for (const m of sent) expectNoPrivateWords(shown(m), 'an alert');
  for (const p of [a, b]) expectNoPrivateWords(p.stderr, `${p.name}'s stderr`);
  // Nothing but the alerts went to the responders' channel, and nothing else anywhere but the DM.
  expect(new Set(slack.of('chat.postMessage').map((c) => c.args.channel))).toEqual(new Set(['D0STAY', ALERTS]));
});

/** A copy of config/ whose tenants.json routes the fake workspace's alerts to `channel`, told as `team`. */
function tenantConfig(channel: string, team: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'trt-alert-config-'));
  dirs.push(dir);
  cpSync(CONFIG_DIR, dir, { recursive: true });
  const file = join(dir, 'system', 'core_system', 'tenants.json');
  const tenants = JSON.parse(readFileSync(file, 'utf8')) as { tenants: Record<string, unknown> };
  tenants.tenants.acme = { slack_teams: ['T0TEAM'], safety_alert: { slack_channel: channel, team } };
  writeFileSync(file, JSON.stringify(tenants, null, 2));
  return dir;
}

it('`human` in a DM (the tenant\'s own channel) asks for a person once while the request is open; /trt human works too', async () => {
  const { slack, api, prefix, queue } = await world();
  const team = 'the Acme night team';
  const channel = 'C0HUMANS';
  // No SAFETY_ALERT_* default: the tenant's own routing (tenants.json) is what sends it.
  const b = await bot('human', botEnv(api, prefix, { CONFIG_DIR: tenantConfig(channel, team), SAFETY_ALERT_SLACK_CHANNEL: '', SAFETY_ALERT_TEAM_NAME: '' }));
  const dm = dmSender(slack, b.url, 'D0HUMAN', 'U0HUMAN');
  await dm.say('human');
  await settled(queue);
  expect(dm.replies()[0]).toContain(texts.human_sent.replace('{team}', team));
  const sent = alertsIn(slack, channel);
  expect(sent).toHaveLength(1);
  expect(sent[0]!.text).toContain('A person asked to talk to a human');
  expect(sent[0]!.text).toContain('Kind: asked to talk to a person');
  expect(sent[0]!.text).toContain('tenant acme');
  expect(sent[0]!.text).toContain('Person: <@U0HUMAN>');
  expect(JSON.stringify(sent[0]!.blocks)).toContain('"action_id":"safety_ack"');

  // Asked again while nobody has taken it: told it is still open, and no second alert.
  await dm.say('human');
  await settled(queue);
  expect(dm.replies()[1]).toContain(texts.human_open.replace('{team}', team));
  expect(alertsIn(slack, channel)).toHaveLength(1);

  // The slash command, from another person's DM: answered in the command's response, and alerted.
  const { body } = await sendCommand(b.url, SECRET, { text: 'human', channel_id: 'D0CMD', user_id: 'U0CMD' });
  expect(body).toMatchObject({ response_type: 'ephemeral', text: expect.stringContaining(texts.human_sent.replace('{team}', team)) });
  await settled(queue);
  const both = alertsIn(slack, channel);
  expect(both).toHaveLength(2);
  expect(both[1]!.text).toContain('Kind: asked to talk to a person');
  expect(both[1]!.text).toContain('Person: <@U0CMD> · session slack:T0TEAM:D0CMD');
  // Alerts went to the tenant's channel only (no default set): nothing in C0ALERTS.
  expect(alertsIn(slack)).toHaveLength(0);
});

it('with no alert destination at all, a crisis DM gets the crisis response with no "let … know" line and nothing is posted elsewhere', async () => {
  const { slack, api, prefix, queue } = await world();
  const b = await bot('off', botEnv(api, prefix, { SAFETY_ALERT_SLACK_CHANNEL: '', SAFETY_ALERT_TEAM_NAME: '' }));
  expect(b.stderr).toMatch(/"alerts":"off \(no tenant safety_alert, no SAFETY_ALERT_\* set\)"/);
  const dm = dmSender(slack, b.url, 'D0NOBODY', 'U0NOBODY');
  await dm.say(CRISIS);
  const reply = dm.replies()[0]!;
  expect(reply).toContain('988');
  expect(reply).not.toContain(texts.told.split('{team}')[0]!.trim()); // "I've let"
  expect(reply).not.toContain(texts.told.split('{team}')[1]!.trim()); // "know, so someone can reach out to you."
  // `human` is told the truth too: no one can be reached from here.
  await dm.say('human');
  expect(dm.replies()[1]).toContain(texts.human_unavailable);
  expect(await queue.pending()).toBe(0);
  expect(await queue.recent(10)).toEqual([]);
  expect(new Set(slack.of('chat.postMessage').map((c) => c.args.channel))).toEqual(new Set(['D0NOBODY']));
  expect(slack.of('chat.getPermalink')).toEqual([]);
  expectNoPrivateWords(b.stderr, 'stderr');
});
