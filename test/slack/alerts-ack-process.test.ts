/**
 * The "I'm on it" button on a safety alert, end to end: two bot processes (the real entry
 * point, Slack over HTTP) on the machine's Redis under a unique prefix, the fake Slack, and
 * button presses signed as Slack sends them. The first responder takes the alert (it is edited
 * to say who, without the button), a later one is told privately who did, and the audit trail
 * records one acknowledgement, with no message text anywhere.
 */
import { expect, it } from 'vitest';
import { blockAction, sendInteractive, type FakeSlack, type SlackMessage } from '../fakes/slack.js';
import { repoConfig } from '../helpers.js';
import type { BotProcess } from '../queue/bot-process.js';
import { until } from '../wait.js';
import { ALERTS, CRISIS, SECRET, TEAM_NAME, alertsIn, botEnv, dmSender, settled, useWorlds } from './alert-process.js';

const { world, bot } = useWorlds();

const texts = repoConfig().safety.alerts;
const TIME = '\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC';

function episodeOf(alert: SlackMessage): string {
  return /Episode: (ep_[0-9a-f]{16})/.exec(alert.text)![1]!;
}

function hasButton(alert: SlackMessage): boolean {
  return (alert.blocks as Array<{ type: string }> | undefined)?.some((b) => b.type === 'actions') ?? false;
}

function press(b: BotProcess, user: string, alert: SlackMessage) {
  return sendInteractive(b.url, SECRET, blockAction({ user, channel: ALERTS, value: episodeOf(alert), messageTs: alert.ts }));
}

/** The alert for a new crisis DM from `user`, once it stands in the responders' channel. */
async function crisisAlert(slack: FakeSlack, b: BotProcess, user: string, queue: { pending(): Promise<number> }): Promise<SlackMessage> {
  const before = alertsIn(slack).length;
  await dmSender(slack, b.url, `D${user.slice(1)}`, user).say(CRISIS);
  await settled(queue);
  const all = alertsIn(slack);
  expect(all).toHaveLength(before + 1);
  return all.at(-1)!;
}

/** A counter's value summed over the processes' /metrics (0 when a process has none). */
async function counted(bots: BotProcess[], series: string): Promise<number> {
  let sum = 0;
  for (const b of bots) {
    const text = await (await fetch(`http://127.0.0.1:${b.port}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${series} `));
    sum += line ? Number(line.slice(series.length + 1)) : 0;
  }
  return sum;
}

/** Waits until `series` sums to at least `atLeast` (a counter goes up just after the job it counts is settled), and returns it. */
async function countedAtLeast(bots: BotProcess[], series: string, atLeast: number): Promise<number> {
  let now = 0;
  await until(async () => (now = await counted(bots, series)) >= atLeast, { what: () => `${series} >= ${atLeast} (it is ${now})` });
  return now;
}

/** The press that took the alert has been handled to its end (its audit entry written first). */
async function takenLogged(bots: BotProcess[]): Promise<void> {
  await until(() => bots.some((b) => b.stderr.includes('"msg":"Safety alert taken"')), { what: 'the "Safety alert taken" log line' });
}

/** The audit stream's entries, oldest first, as field maps. */
async function auditTrail(redis: { xrange(key: string, start: string, end: string): Promise<Array<[string, string[]]>> }, prefix: string) {
  const rows = await redis.xrange(`${prefix}:audit`, '-', '+');
  return rows.map(([, flat]) => Object.fromEntries(flat.flatMap((v, i) => (i % 2 === 0 ? [[v, flat[i + 1]!]] : []))) as Record<string, string>);
}

it('the first press takes the alert (edited to say who, the button gone); a second responder is told who; the audit trail has one acknowledgement and no text', async () => {
  const { slack, api, prefix, redis, queue } = await world();
  const [a, b] = await Promise.all([bot('a', botEnv(api, prefix)), bot('b', botEnv(api, prefix))]);
  const alert = await crisisAlert(slack, a, 'U0PERSON', queue);
  const episode = episodeOf(alert);
  expect(hasButton(alert)).toBe(true);

  expect((await press(a, 'U0FIRST', alert)).status).toBe(200);
  await takenLogged([a]);
  const taken = await until(() => alertsIn(slack).find((m) => m.ts === alert.ts && m.edits > 0), { timeoutMs: 15_000, what: 'the alert to be edited' });
  expect(taken.text).toMatch(new RegExp(`Taken by <@U0FIRST> at ${TIME}\\.`));
  expect(taken.text).toContain(`Episode: ${episode}`);
  expect(hasButton(taken)).toBe(false);
  expect(JSON.stringify(taken.blocks)).toContain('Taken by <@U0FIRST>');

  // The second responder presses the button they still see, on the other instance.
  expect((await press(b, 'U0SECOND', alert)).status).toBe(200);
  const [told] = await slack.waitFor('chat.postEphemeral', 1, 15_000);
  expect(told!.args).toMatchObject({ channel: ALERTS, user: 'U0SECOND' });
  expect(String(told!.args.text)).toMatch(new RegExp(`^Already taken by <@U0FIRST> at ${TIME}\\.$`));

  // Its answer came after its acknowledgement was refused: nothing more is on its way once the queue is empty.
  await settled(queue);
  expect(slack.of('chat.postEphemeral')).toHaveLength(1);
  expect(slack.of('chat.update').filter((c) => c.args.channel === ALERTS)).toHaveLength(1);
  expect(alertsIn(slack)).toHaveLength(1);
  expect((await queue.get(episode))?.ack?.by).toBe('slack:U0FIRST');

  // The sent entry is written just after the job is settled.
  const trail = await until(async () => {
    const t = await auditTrail(redis, prefix);
    return t.some((e) => e.action === 'safety_alert_sent') && t;
  });
  const sent = trail.filter((e) => e.action === 'safety_alert_sent');
  const acks = trail.filter((e) => e.action === 'safety_alert_acknowledged');
  expect(sent).toEqual([expect.objectContaining({ actor: 'bot', target: episode, destination: 'slack', kind: 'crisis', includes_text: 'no' })]);
  expect(acks).toEqual([expect.objectContaining({ actor: 'slack:U0FIRST', target: episode, kind: 'crisis', platform: 'slack' })]);
  const everything = JSON.stringify(trail).toLowerCase();
  for (const w of ['kill', CRISIS.toLowerCase()]) expect(everything).not.toContain(w);
  for (const p of [a, b]) expect(p.stderr.toLowerCase()).not.toContain('kill');

  // Counted once, by whichever instance edited the alert.
  expect(await countedAtLeast([a, b], 'trt_safety_alerts_total{outcome="edited"}', 1)).toBe(1);
  expect(await countedAtLeast([a, b], 'trt_safety_alert_ack_seconds_count', 1)).toBe(1);
});

it('two responders pressing at once on two instances: one takes it, the other is told that one did', async () => {
  const { slack, api, prefix, redis, queue } = await world();
  const [a, b] = await Promise.all([bot('a', botEnv(api, prefix)), bot('b', botEnv(api, prefix))]);
  const alert = await crisisAlert(slack, b, 'U0RACE', queue);
  const results = await Promise.all([press(a, 'U0LEFT', alert), press(b, 'U0RIGHT', alert)]);
  expect(results.map((r) => r.status)).toEqual([200, 200]);
  const [told] = await slack.waitFor('chat.postEphemeral', 1, 15_000);
  await takenLogged([a, b]);
  const loser = String(told!.args.user);
  const winner = loser === 'U0LEFT' ? 'U0RIGHT' : 'U0LEFT';
  expect(['U0LEFT', 'U0RIGHT']).toContain(loser);
  expect(String(told!.args.text)).toMatch(new RegExp(`^Already taken by <@${winner}> at ${TIME}\\.$`));
  const taken = await until(() => alertsIn(slack).find((m) => m.edits > 0), { timeoutMs: 15_000, what: 'the alert to be edited' });
  expect(taken.text).toContain(`Taken by <@${winner}>`);
  await settled(queue);
  expect(slack.of('chat.postEphemeral')).toHaveLength(1);
  const acks = (await auditTrail(redis, prefix)).filter((e) => e.action === 'safety_alert_acknowledged');
  expect(acks.map((e) => e.actor)).toEqual([`slack:${winner}`]);
});

it('a `human` request once taken is no longer open: asking again raises a new alert', async () => {
  const { slack, api, prefix, queue } = await world();
  const b = await bot('human', botEnv(api, prefix));
  const dm = dmSender(slack, b.url, 'D0ASKS', 'U0ASKS');
  await dm.say('human');
  await settled(queue);
  const [first] = alertsIn(slack);
  expect(first!.text).toContain('Kind: asked to talk to a person');
  await dm.say('human');
  expect(dm.replies()[1]).toContain(texts.human_open.replace('{team}', TEAM_NAME));
  expect((await press(b, 'U0FIRST', first!)).status).toBe(200);
  await takenLogged([b]);
  await dm.say('human');
  await settled(queue);
  expect(dm.replies()[2]).toContain(texts.human_sent.replace('{team}', TEAM_NAME));
  const all = alertsIn(slack);
  expect(all).toHaveLength(2);
  expect(episodeOf(all[1]!)).not.toBe(episodeOf(first!));
  expect(hasButton(all[1]!)).toBe(true);
});
