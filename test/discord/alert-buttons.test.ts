/**
 * The "I'm on it" button on a Discord safety alert (adapters/discord/alert-buttons.ts, wired in
 * listeners.ts, checked at the edge by shapes.ts): the real discord.js Client against the fake
 * Discord, alerts in a MemoryAlertQueue, the alert posted by the real DiscordAlertNotifier.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DiscordAlertNotifier } from '../../adapters/discord/alert-notifier.js';
import { ACK_REPLIES } from '../../adapters/discord/alert-buttons.js';
import { createDiscordClient, type DiscordRunner } from '../../adapters/discord/discord-app.js';
import { MemoryAlertQueue, MemoryMarks, type AlertQueue, type SafetyAlert } from '../../src/index.js';
import { FakeDiscord, GUILD_ID, TEXT_CHANNEL_ID, interaction, message, botUser, person } from '../fakes/discord.js';
import { makeEngine } from '../helpers.js';
import { recordingLogger } from './edge-harness.js';

let runner: DiscordRunner | undefined;
let fake: FakeDiscord;
afterEach(async () => {
  await runner?.stop();
  runner = undefined;
  await fake.stop();
});

const EPISODE = 'ep_00112233aabbccdd';
const FIRST = person('400000000000000101');
const SECOND = person('400000000000000102');
const DROPPED = 'Discord event dropped at the edge';
/** An acknowledgement slower than Discord's 3 s allows without a deferral (scenario, not synchronisation). */
const SLOW_ACK_MS = 2500;

const theAlert: SafetyAlert = {
  episode: EPISODE,
  kind: 'crisis',
  platform: 'discord',
  sessionId: `discord:dm:600000000000000001`,
  userId: '400000000000000001',
  at: '2026-12-03T07:30:00.000Z',
};

/** Counts acknowledge calls on the way to the queue (a forged press must never get there). */
function counting(queue: Pick<AlertQueue, 'acknowledge'>) {
  const calls: Array<[string, string]> = [];
  return {
    calls,
    acknowledge: (episode: string, by: string, now?: Date) => {
      calls.push([episode, by]);
      return queue.acknowledge(episode, by, now);
    },
  };
}

async function start(alerts: Pick<AlertQueue, 'acknowledge'> | undefined) {
  fake = new FakeDiscord();
  const apiUrl = await fake.start();
  const logger = recordingLogger();
  runner = createDiscordClient({ token: 'fake.discord.token', apiUrl }, { engine: makeEngine().engine, marks: new MemoryMarks(), logger, alerts });
  await runner.start();
  await fake.ready();
  return logger;
}

/** Raises the alert and posts it the way the worker does (claim, send, done). */
async function raisedAndPosted(queue: MemoryAlertQueue): Promise<string> {
  expect(await queue.raise(theAlert, { discordChannel: TEXT_CHANNEL_ID, includeText: false, team: 'the care team' })).toBe('queued');
  const job = (await queue.claim(['discord'], 30_000))!;
  const sent = await new DiscordAlertNotifier(runner!.client.rest).send(job.record);
  await queue.done(job, { sent });
  return sent!.id;
}

const answers = async (id: string, count = 1) => {
  await fake.waitFor('POST', new RegExp(`^/interactions/${id}/[^/]+/callback$`), count);
  return fake.callbacksFor(id);
};

describe('Discord alert button (real discord.js Client)', () => {
  it('two responders press: the first takes it (recorded, the alert edited, button gone); the second is told who took it', async () => {
    const queue = new MemoryAlertQueue();
    const alerts = counting(queue);
    await start(alerts);
    const alertId = await raisedAndPosted(queue);
    // Both presses land before either is answered (two people, the same moment).
    const first = fake.pressButton(alertId, { user: FIRST, guildId: GUILD_ID });
    const second = fake.pressButton(alertId, { user: SECOND, guildId: GUILD_ID });

    const [took] = await answers(first.id);
    expect(took!.body).toMatchObject({ type: 7, data: { components: [], allowed_mentions: { parse: [] } } });
    const record = (await queue.get(EPISODE))!;
    expect(record.ack?.by).toBe(`discord:${FIRST.id}`);
    const shown = fake.messages.get(alertId)!;
    expect(shown.components).toEqual([]);
    expect(shown.content).toContain('**The crisis protocol fired**');
    expect(shown.content).toContain(`Taken by <@${FIRST.id}> at `);

    const [told] = await answers(second.id);
    const when = record.ack!.at.replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
    expect(told!.body).toEqual({ type: 4, data: expect.objectContaining({ content: `Already taken by <@${FIRST.id}> at ${when}.`, flags: 64 }) });
    expect((await queue.get(EPISODE))!.ack).toEqual(record.ack);
    expect(alerts.calls).toEqual([[EPISODE, `discord:${FIRST.id}`], [EPISODE, `discord:${SECOND.id}`]]);
    // The worker's ack job is queued (it edits the alert everywhere, this message to the same content).
    expect(await queue.pending()).toBe(1);
  });

  it('a press in a DM works too; taken from the CLI, a press names the taker plainly', async () => {
    const queue = new MemoryAlertQueue();
    await start(queue);
    const alertId = await raisedAndPosted(queue);
    expect((await queue.acknowledge(EPISODE, 'cli:alice')).outcome).toBe('acknowledged');
    const press = fake.pressButton(alertId, { user: SECOND });
    const [told] = await answers(press.id);
    expect(told!.body).toMatchObject({ type: 4, data: { content: expect.stringMatching(/^Already taken by cli:alice at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\.$/), flags: 64 } });
  });

  it('an alert no longer on record, and a queue that is down, get their ephemeral answers', async () => {
    const down: Pick<AlertQueue, 'acknowledge'> = { acknowledge: async () => Promise.reject(new Error('ECONNREFUSED')) };
    const queue = new MemoryAlertQueue();
    let current: Pick<AlertQueue, 'acknowledge'> = queue;
    const logger = await start({ acknowledge: (e, b, n) => current.acknowledge(e, b, n) });
    const alertId = await raisedAndPosted(queue);
    const gone = fake.pressButton(alertId, { user: FIRST, guildId: GUILD_ID, customId: 'safety_ack:ep_ffffffffffffffff' });
    expect((await answers(gone.id))[0]!.body).toMatchObject({ type: 4, data: { content: ACK_REPLIES.unknown, flags: 64 } });
    current = down;
    const failed = fake.pressButton(alertId, { user: FIRST, guildId: GUILD_ID });
    expect((await answers(failed.id))[0]!.body).toMatchObject({ type: 4, data: { content: ACK_REPLIES.failed, flags: 64 } });
    expect(logger.lines.map((l) => [l.level, l.msg, l.fields])).toContainEqual(['warn', 'Safety alert acknowledgement not recorded', { err: 'Error' }]);
    expect(fake.messages.get(alertId)!.components).toHaveLength(1); // nothing taken: the button stays
  });

  it('a queue slower than Discord waits: the press is deferred in time, then the outcome is the reply', async () => {
    const queue = new MemoryAlertQueue();
    const slow: Pick<AlertQueue, 'acknowledge'> = { acknowledge: async (e, b, n) => new Promise((r) => setTimeout(() => r(queue.acknowledge(e, b, n)), SLOW_ACK_MS)) };
    await start(slow);
    const alertId = await raisedAndPosted(queue);
    const press = fake.pressButton(alertId, { user: FIRST, guildId: GUILD_ID });
    const [deferred] = await answers(press.id);
    expect(deferred!.body).toMatchObject({ type: 5, data: { flags: 64 } });
    expect(deferred!.at - Number(BigInt(press.id) >> 22n) - 1420070400000).toBeLessThan(3000);
    const [edit] = await fake.waitFor('PATCH', new RegExp(`^/webhooks/\\d+/${press.token}/messages/@original$`), 1, SLOW_ACK_MS + 5000);
    expect(edit!.body.content).toBe(ACK_REPLIES.acknowledged);
    expect((await queue.get(EPISODE))!.ack?.by).toBe(`discord:${FIRST.id}`);
  });

  it('forged or malformed alert buttons are dropped at the edge, answered as not handled, and never reach the queue', async () => {
    const queue = new MemoryAlertQueue();
    const alerts = counting(queue);
    const logger = await start(alerts);
    const alertId = await raisedAndPosted(queue);
    const where = { channelId: TEXT_CHANNEL_ID, guildId: GUILD_ID };
    const onMessage = { ...message({ id: alertId, channel_id: TEXT_CHANNEL_ID, content: 'x', author: botUser(), guild_id: GUILD_ID }) };
    const good = () => interaction(3, { custom_id: `safety_ack:${EPISODE}`, component_type: 2 }, where, FIRST, onMessage);
    const forged = [
      interaction(3, { custom_id: 'safety_ack:ep_NOT-AN-EPISODE', component_type: 2 }, where, FIRST, onMessage),
      interaction(3, { custom_id: `safety_ack:${EPISODE}`, component_type: 3, values: ['a'] }, where, FIRST, onMessage), // a select menu
      interaction(3, { custom_id: `safety_ack:${EPISODE}x`, component_type: 2 }, where, FIRST, onMessage),
      interaction(3, { custom_id: `safety_ack:${EPISODE}`, component_type: 2 }, where, { ...FIRST, id: 'Zanzibar' }, onMessage),
      { ...good(), member: undefined },
      { ...good(), message: undefined },
      { ...good(), guild_id: 'Zanzibar' },
      interaction(5, { custom_id: `safety_ack:${EPISODE}`, components: [] }, where, FIRST), // a modal carrying it
    ];
    for (const d of forged) fake.dispatch('INTERACTION_CREATE', d);
    for (const d of forged) {
      const [answer, ...more] = await answers(d.id);
      expect(more).toEqual([]);
      expect(answer!.body.type).toBe(d.type === 5 ? 4 : 6);
    }
    const drops = logger.lines.filter((l) => l.msg === DROPPED);
    expect(drops.map((l) => l.fields.eventId)).toEqual(forged.map((d) => d.id));
    expect(drops.map((l) => l.fields.reason)).toEqual([
      'data.custom_id: invalid_format',
      'data.component_type: invalid_value',
      'data.custom_id: invalid_format',
      'member.user.id: invalid_format',
      'member: invalid_type',
      'message: invalid_type',
      'guild_id: invalid_format',
      'type: invalid_value',
    ]);
    expect(logger.lines.filter((l) => l.text.includes('Zanzibar') || l.text.includes('NOT-AN'))).toEqual([]);
    expect(alerts.calls).toEqual([]);
    expect((await queue.get(EPISODE))!.ack).toBeUndefined();
    expect(fake.messages.get(alertId)!.components).toHaveLength(1);
  });

  it('without `alerts` an alert button is answered as not handled and changes nothing', async () => {
    const queue = new MemoryAlertQueue();
    await start(undefined);
    const alertId = await raisedAndPosted(queue);
    const press = fake.pressButton(alertId, { user: FIRST, guildId: GUILD_ID });
    const [answer, ...more] = await answers(press.id);
    expect(more).toEqual([]);
    expect(answer!.body).toEqual({ type: 6 });
    expect((await queue.get(EPISODE))!.ack).toBeUndefined();
    expect(fake.messages.get(alertId)!.components).toHaveLength(1);
  });
});
