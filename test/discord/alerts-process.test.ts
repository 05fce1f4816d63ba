/**
 * Safety alerts end to end on Discord: the real entry point (`node adapters/main.ts`) as
 * processes against the fake Discord (gateway and REST), on the machine's Redis under a unique
 * prefix per test. A crisis DM alerts the responders' channel once (a replayed event, a second
 * instance and a second risk statement in the same stay included) with the "I'm on it" button
 * and a message link but never the person's words; the first responder to press takes it;
 * `human` (and `/trt human`) asks for a person once while the request is open.
 */
import { expect, it } from 'vitest';
import { RedisAlertQueue } from '../../src/index.js';
import { BotProcess } from '../queue/bot-process.js';
import { BOT_ID, FakeDiscord, GUILD_ID, TEXT_CHANNEL_ID, botUser, message, nowSnowflake, person, type DiscordMessage } from '../fakes/discord.js';
import { repoConfig } from '../helpers.js';
import { until } from '../wait.js';
import { EPHEMERAL, discordEnv, dmWith, trt, useDiscordWorlds } from './process-world.js';

const ALERTS = '300000000000000077';
const TEAM = 'the Acme care team';
const CRISIS = 'I want to kill myself';
const texts = repoConfig().safety.alerts;
const TOLD = texts.told.replace('{team}', TEAM);
const HUMAN_SENT = texts.human_sent.replace('{team}', TEAM);
const HUMAN_OPEN = texts.human_open.replace('{team}', TEAM);

const worlds = useDiscordWorlds();

/** A fake Discord, a Redis prefix and the alert queue on it for this test, all removed after it. */
async function world() {
  const w = await worlds.world();
  const queue = new RedisAlertQueue({ client: w.redis, prefix: w.prefix });
  /** Every alert job delivered: nothing is left that could still post (or edit) an alert. */
  const settled = () => until(async () => (await queue.pending()) === 0, { timeoutMs: 15_000, what: 'the alert queue to have no pending job' });
  /** The audit stream's entries, oldest first, as field maps. */
  const audit = async () => (await w.redis.xrange(`${w.prefix}:audit`, '-', '+')).map(([, f]) => Object.fromEntries(f.flatMap((v, i) => (i % 2 ? [] : [[v, f[i + 1]!]]))) as Record<string, string>);
  return { ...w, queue, settled, audit };
}

/** One bot process: Discord only, Redis under `prefix`, the offline responder, alerts to ALERTS. */
const bot = (name: string, api: string, prefix: string): Promise<BotProcess> => worlds.bot(name, discordEnv(api, prefix, { SAFETY_ALERT_DISCORD_CHANNEL: ALERTS, SAFETY_ALERT_TEAM_NAME: TEAM }));

/** A process's count of deliveries of a message already queued (trt_dedupe_hits_total), from its /metrics. */
async function dedupeHits(b: BotProcess): Promise<number> {
  const port = /"opsPort":(\d+)/.exec(b.stderr)?.[1];
  const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return Number(/^trt_dedupe_hits_total\{platform="discord"\} (\d+)$/m.exec(metrics)?.[1] ?? 0);
}

/** The alerts in the responders' channel, as they stand now (edits applied). */
const alertsIn = (fake: FakeDiscord): DiscordMessage[] => fake.visible(ALERTS);
const customIdOf = (m: DiscordMessage): string | undefined => (m.components as Array<{ components: Array<{ custom_id?: string }> }>)[0]?.components[0]?.custom_id;

it('a crisis DM alerts the responders once: the button, the kind and the message link, not the words, no pings; the person is told', async () => {
  const { fake, api, prefix, settled } = await world();
  const b = await bot('one', api, prefix);
  const channel = '600000000000000301';
  const who = person('400000000000000301');
  const dm = dmWith(fake, channel, who);
  const first = dm.payload(CRISIS);
  const reply = await dm.say(CRISIS, { prepared: first });
  expect(reply).toContain(TOLD);
  expect(reply).toContain('988');
  await settled();

  const sent = alertsIn(fake);
  expect(sent).toHaveLength(1);
  const [alert] = sent;
  expect(alert!.content).toContain('Kind: crisis statement');
  expect(alert!.content).toContain(`Person: <@${who.id}> (${who.id})`);
  expect(alert!.content).toContain(`Conversation: https://discord.com/channels/@me/${channel}/${first.id}`);
  expect(customIdOf(alert!)).toMatch(/^safety_ack:ep_[0-9a-f]{16}$/);
  expect(JSON.stringify(alert!.components)).toContain("I'm on it");
  const [post] = fake.of('POST', new RegExp(`^/channels/${ALERTS}/messages$`));
  expect(post!.body.allowed_mentions).toEqual({ parse: [] });
  for (const words of [CRISIS, 'kill']) {
    expect(JSON.stringify(post!.body)).not.toContain(words);
    expect(b.stderr).not.toContain(words);
  }
});

it('a replayed event on two instances, a second risk statement: one alert; after the release a new crisis alerts again', async () => {
  const { fake, api, prefix, queue, settled } = await world();
  const [a, b] = await Promise.all([bot('a', api, prefix), bot('b', api, prefix)]);
  const channel = '600000000000000302';
  const dm = dmWith(fake, channel, person('400000000000000302'));
  let hits: number[] = [];
  const duplicates = (n: number) =>
    until(async () => (hits = [await dedupeHits(a), await dedupeHits(b)])[0]! + hits[1]! >= n, { timeoutMs: 15_000, what: () => `${n} deliveries seen as duplicates (seen: ${hits.join(' + ')})` });
  const crisis = dm.payload(CRISIS);
  // Both instances receive it: one queues it, the other finds it queued already.
  expect(await dm.say(CRISIS, { prepared: crisis, all: true })).toContain(TOLD);
  await duplicates(1);
  // The gateway dispatches it again to both (discord.js itself drops a message it holds), then
  // the next message, which each instance reads after the replay: its answer comes after anything the replay could cause.
  fake.dispatchAll('MESSAGE_CREATE', crisis);
  const again = await dm.say('I really want to end my life', { all: true });
  expect(again).toContain('988');
  await duplicates(2);
  await settled();
  expect((await dedupeHits(a)) + (await dedupeHits(b))).toBe(2); // the replay was no new message on either instance
  expect(dm.replies()).toHaveLength(2); // one turn for each message, however often delivered
  expect(alertsIn(fake)).toHaveLength(1); // nor does a second risk statement in the same stay alert

  await dm.say("I'm safe");
  await dm.say('I am safe now, my partner is here');
  expect(await dm.say(CRISIS)).toContain(TOLD);
  await settled();
  const sent = alertsIn(fake);
  expect(sent).toHaveLength(2);
  expect(new Set(sent.map(customIdOf)).size).toBe(2);
  expect(await queue.recent(10)).toHaveLength(2);
});

it('two responders press the button: the first takes it (the alert says who, no button left), the second is told; one audit entry without text', async () => {
  const { fake, api, prefix, settled, audit } = await world();
  await bot('one', api, prefix);
  const dm = dmWith(fake, '600000000000000303', person('400000000000000303'));
  await dm.say(CRISIS);
  await settled();
  const [alert] = alertsIn(fake);
  const customId = customIdOf(alert!)!;
  const first = person('400000000000000901');
  const second = person('400000000000000902');

  const p1 = fake.pressButton(alert!.id, { user: first, guildId: GUILD_ID });
  const [taken] = await until(() => fake.callbacksFor(p1.id).length > 0 && fake.callbacksFor(p1.id), { what: 'the answer to the first press' });
  expect(taken!.body.type).toBe(7); // UPDATE_MESSAGE: the alert itself changes
  // The second responder's screen still showed the button.
  const p2 = fake.pressButton(alert!.id, { user: second, guildId: GUILD_ID, customId });
  const [told] = await until(() => fake.callbacksFor(p2.id).length > 0 && fake.callbacksFor(p2.id), { what: 'the answer to the second press' });
  const data = told!.body.data as { content: string; flags: number };
  expect(told!.body.type).toBe(4);
  expect(data.flags & EPHEMERAL).toBe(EPHEMERAL);
  expect(data.content).toMatch(new RegExp(`^Already taken by <@${first.id}> at `));

  // The worker's edit of the posted alert (the same content as the press's update).
  await fake.waitFor('PATCH', new RegExp(`^/channels/${ALERTS}/messages/${alert!.id}$`), 1, 15_000);
  await settled();
  const now = alertsIn(fake)[0]!;
  expect(now.content).toContain(`Taken by <@${first.id}> at `);
  expect(now.content).not.toContain(second.id);
  expect(now.components).toEqual([]);
  expect(fake.of('PATCH', new RegExp(`^/channels/${ALERTS}/messages/`)).every((c) => JSON.stringify(c.body.allowed_mentions) === '{"parse":[]}')).toBe(true);

  const entries = await audit();
  const acks = entries.filter((e) => e.action === 'safety_alert_acknowledged');
  expect(acks).toHaveLength(1);
  expect(acks[0]).toMatchObject({ actor: `discord:${first.id}`, target: customId.slice('safety_ack:'.length) });
  expect(entries.some((e) => e.action === 'safety_alert_sent')).toBe(true);
  expect(JSON.stringify(entries)).not.toMatch(/kill|myself/);
});

it('`human` in a DM asks for a person once while the request is open; /trt human asks too', async () => {
  const { fake, api, prefix, settled } = await world();
  await bot('one', api, prefix);
  const who = person('400000000000000304');
  const channel = '600000000000000304';
  const dm = dmWith(fake, channel, who);
  expect(await dm.say('human')).toContain(HUMAN_SENT);
  await settled();
  expect(alertsIn(fake)).toHaveLength(1);
  expect(alertsIn(fake)[0]!.content).toContain('Kind: asked to talk to a person');

  expect(await dm.say('human')).toContain(HUMAN_OPEN);
  await settled();
  expect(alertsIn(fake)).toHaveLength(1);
  // The same person's /trt human while the request is open: the same answer, no second alert.
  expect(await trt(fake, 'human', channel, who)).toContain(HUMAN_OPEN);
  await settled();
  expect(alertsIn(fake)).toHaveLength(1);

  // Another person's /trt human: an alert of its own (a command has no message to link to).
  expect(await trt(fake, 'human', '600000000000000305', person('400000000000000305'))).toContain(HUMAN_SENT);
  await settled();
  const sent = alertsIn(fake);
  expect(sent).toHaveLength(2);
  expect(sent[1]!.content).toContain('Person: <@400000000000000305>');
  expect(sent[1]!.content).toContain('Kind: asked to talk to a person');
  expect(sent[1]!.content).not.toContain('Conversation:');
});

it("a crisis mention in a server: the alert links the message in its own channel, not the thread opened for it", async () => {
  const { fake, api, prefix, settled } = await world();
  await bot('one', api, prefix);
  const mention = message({ channel_id: TEXT_CHANNEL_ID, guild_id: GUILD_ID, content: `<@${BOT_ID}> ${CRISIS}`, author: person('400000000000000306'), mentions: [botUser()], id: nowSnowflake() });
  fake.dispatch('MESSAGE_CREATE', mention);
  // The reply's first post (the alert, in ALERTS, may come before it).
  const [post] = await fake.waitFor('POST', new RegExp(`^/channels/(?!${ALERTS}/)\\d+/messages$`), 1, 15_000);
  const thread = /^\/channels\/(\d+)\/messages$/.exec(post!.path)![1]!;
  expect(thread).not.toBe(TEXT_CHANNEL_ID);
  await until(() => fake.visible(thread).some((m) => m.content.includes(TOLD)), { timeoutMs: 15_000, what: 'the crisis response in the thread' });
  await settled();
  const [alert] = alertsIn(fake);
  expect(alert!.content).toContain(`Conversation: https://discord.com/channels/${GUILD_ID}/${TEXT_CHANNEL_ID}/${mention.id}`);
});
