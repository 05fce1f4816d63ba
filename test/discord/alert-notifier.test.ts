/** The Discord alert notifier (adapters/discord/alert-notifier.ts) with discord.js's real REST against the fake Discord. */
import { REST } from 'discord.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DiscordAlertNotifier, discordConversationLink } from '../../adapters/discord/alert-notifier.js';
import type { AlertRecord, SafetyAlert } from '../../src/index.js';
import { FakeDiscord, GUILD_ID, TEXT_CHANNEL_ID } from '../fakes/discord.js';

const ALERTS_CHANNEL = TEXT_CHANNEL_ID;
const PERSON = '400000000000000042';
const THREAD = '700000000000000001';
const DM = '600000000000000009';
const MESSAGE = '800000000000000001';
const SECRET = 'I want to end it all tonight';

let fake: FakeDiscord;
let notifier: DiscordAlertNotifier;
beforeEach(async () => {
  fake = new FakeDiscord();
  const api = await fake.start();
  notifier = new DiscordAlertNotifier(new REST({ api }).setToken('fake.discord.token'));
});
afterEach(async () => fake.stop());

function alert(fields: Partial<SafetyAlert> = {}): SafetyAlert {
  return {
    episode: 'ep_0123456789abcdef',
    kind: 'crisis',
    platform: 'discord',
    tenant: GUILD_ID,
    sessionId: `discord:${GUILD_ID}:${THREAD}`,
    userId: PERSON,
    at: '2026-12-03T07:30:00.123Z',
    origin: { replyTo: { channelId: THREAD }, messageId: MESSAGE },
    ...fields,
  };
}
function record(a: SafetyAlert = alert(), includeText = false, link?: string): AlertRecord {
  return { alert: a, target: { discordChannel: ALERTS_CHANNEL, includeText, team: 'the care team' }, link, sent: {}, failed: [] };
}

describe('DiscordAlertNotifier', () => {
  it('posts the alert to the channel: bold title, the lines, the person mentioned, one "I\'m on it" button, no pings, no text', async () => {
    const link = await discordConversationLink(alert());
    const sent = await notifier.send(record(alert(), false, link));
    expect(sent).toEqual({ channel: ALERTS_CHANNEL, id: expect.stringMatching(/^\d{17,20}$/) });
    const [post] = fake.of('POST', new RegExp(`^/channels/${ALERTS_CHANNEL}/messages$`));
    expect(post!.body.allowed_mentions).toEqual({ parse: [] });
    const shown = fake.messages.get(sent!.id)!;
    expect(shown.channelId).toBe(ALERTS_CHANNEL);
    const content = shown.content;
    expect(content.split('\n')[0]).toBe('**The crisis protocol fired**');
    for (const part of ['Kind: crisis statement', `Platform: discord · tenant ${GUILD_ID}`, `Person: <@${PERSON}> (${PERSON}) · session discord:${GUILD_ID}:${THREAD}`, 'When: 2026-12-03 07:30:00 UTC', 'Episode: ep_0123456789abcdef', `Conversation: https://discord.com/channels/${GUILD_ID}/${THREAD}/${MESSAGE}`]) {
      expect(content).toContain(part);
    }
    expect(content).not.toContain('Message');
    expect(shown.components).toEqual([{ type: 1, components: [{ type: 2, style: 1, label: "I'm on it", custom_id: 'safety_ack:ep_0123456789abcdef' }] }]);
  });

  it('a person on another platform is named, not mentioned; a request for a human has its own title', async () => {
    const sent = await notifier.send(record(alert({ platform: 'slack', userId: 'U0PERSON', sessionId: 'slack:T1:D1', kind: 'requested', origin: undefined })));
    const content = fake.messages.get(sent!.id)!.content;
    expect(content.split('\n')[0]).toBe('**A person asked to talk to a human**');
    expect(content).toContain('Person: U0PERSON · session slack:T1:D1');
    expect(content).not.toContain('<@');
  });

  it("the person's words appear only when the tenant includes text, and never ping (an @everyone in them stays inert)", async () => {
    const without = await notifier.send(record(alert(), false));
    expect(fake.messages.get(without!.id)!.content).not.toContain(SECRET);
    const words = `${SECRET} @everyone`;
    const withText = await notifier.send(record(alert({ text: words }), true));
    expect(fake.messages.get(withText!.id)!.content).toContain(`Message (this tenant includes text): ${words}`);
    for (const p of fake.of('POST', /\/messages$/)) expect(p.body.allowed_mentions).toEqual({ parse: [] });
  });

  it('stays within 2,000 characters when the included text is long, and the taken line still fits after it', async () => {
    const r = record(alert({ text: '🙂'.repeat(3000) }), true);
    const sent = await notifier.send(r);
    const posted = fake.messages.get(sent!.id)!.content;
    expect(posted.length).toBeLessThanOrEqual(2000);
    expect(posted).toContain('Episode: ep_0123456789abcdef');
    expect(posted).not.toMatch(/[\uD800-\uDBFF]…$/); // never half an emoji
    await notifier.acknowledged(r, sent, { by: `discord:${PERSON}`, at: '2026-12-03T07:31:00.000Z' });
    const edited = fake.messages.get(sent!.id)!.content;
    expect(edited.length).toBeLessThanOrEqual(2000);
    expect(edited.endsWith(`**Taken by <@${PERSON}> at 2026-12-03 07:31:00 UTC.**`)).toBe(true);
  });

  it('once taken, the alert is edited: same lines, who took it and when, the button gone, nobody pinged', async () => {
    const r = record();
    const sent = await notifier.send(r);
    const before = fake.messages.get(sent!.id)!.content;
    const responder = '400000000000000077';
    await notifier.acknowledged(r, sent, { by: `discord:${responder}`, at: '2026-12-03T07:31:05.000Z' });
    const [patch] = fake.of('PATCH', new RegExp(`^/channels/${ALERTS_CHANNEL}/messages/${sent!.id}$`));
    expect(patch!.body.allowed_mentions).toEqual({ parse: [] });
    const shown = fake.messages.get(sent!.id)!;
    expect(shown.content).toBe(`${before}\n**Taken by <@${responder}> at 2026-12-03 07:31:05 UTC.**`);
    expect(shown.components).toEqual([]);
    expect(shown.edits).toBe(1);
  });

  it('taken after reminders: a reply to the alert says who took it, pinging nobody; without reminders none', async () => {
    const r = record();
    const sent = await notifier.send(r);
    const ack = { by: 'cli:alice', at: '2026-12-03T07:42:00Z' };
    await notifier.acknowledged(r, sent, ack);
    expect(fake.of('POST', /\/messages$/)).toHaveLength(1); // the alert only
    await notifier.acknowledged({ ...r, reminded: { discord: 2 } }, sent, ack);
    const posts = fake.of('POST', /\/messages$/);
    expect(posts).toHaveLength(2);
    expect(posts[1]!.body).toMatchObject({ content: 'Taken by cli:alice at 2026-12-03 07:42:00 UTC.', allowed_mentions: { parse: [] }, message_reference: { message_id: sent!.id } });
  });

  it('a taker from the CLI or Slack is named as they are', async () => {
    const r = record();
    const sent = await notifier.send(r);
    await notifier.acknowledged(r, sent, { by: 'cli:alice', at: '2026-12-03T07:32:00Z' });
    expect(fake.messages.get(sent!.id)!.content).toContain('**Taken by cli:alice at 2026-12-03 07:32:00 UTC.**');
  });

  it('an alert never posted (its send failed for good) has nothing to edit', async () => {
    await notifier.acknowledged(record(), undefined, { by: 'cli:alice', at: '2026-12-03T07:32:00Z' });
    expect(fake.calls.filter((c) => c.method === 'PATCH')).toEqual([]);
  });

  it('throws when Discord does not take it (a 500 on the post, a 404 on the edit), so the worker retries', async () => {
    fake.failures.push({ method: 'POST', pattern: /\/messages$/, times: 100, status: 500, code: 0 });
    await expect(notifier.send(record())).rejects.toThrow();
    expect(fake.messages.size).toBe(0);
    await expect(notifier.acknowledged(record(), { channel: ALERTS_CHANNEL, id: '800000000000000099' }, { by: 'cli:alice', at: '2026-12-03T07:32:00Z' })).rejects.toThrow();
  });

  it('a reminder replies to the posted alert with @here (which alone may notify) and the reminder line, never the person\'s words', async () => {
    const r = record(alert({ text: `${SECRET} <@${PERSON}>` }), true);
    const sent = await notifier.send(r);
    await notifier.remind(r, sent, { n: 1, of: 3, minutes: 10 });
    const [, post] = fake.of('POST', new RegExp(`^/channels/${ALERTS_CHANNEL}/messages$`));
    expect(post!.body.message_reference).toEqual({ message_id: sent!.id, fail_if_not_exists: false });
    expect(post!.body.allowed_mentions).toEqual({ parse: ['everyone'] });
    expect(post!.body.content).toBe(
      `@here Not taken yet: this safety alert was raised 10 min ago (ep_0123456789abcdef, reminder 1 of 3). Press "I'm on it" on the alert if you are reaching out.`,
    );
    expect(post!.body).not.toHaveProperty('components');
    expect(JSON.stringify(post!.body)).not.toContain(SECRET);
    expect(JSON.stringify(post!.body)).not.toContain(`<@${PERSON}>`);
    const [, shown] = fake.visible(ALERTS_CHANNEL);
    expect(shown!.content.startsWith('@here ')).toBe(true);
    expect(fake.messages.get(sent!.id)!.edits).toBe(0); // the alert itself stays as posted
  });

  it("a reminder for an alert never posted is a plain message in the target's channel", async () => {
    await notifier.remind(record(alert({ kind: 'requested' })), undefined, { n: 3, of: 3, minutes: 30 });
    const [post] = fake.of('POST', new RegExp(`^/channels/${ALERTS_CHANNEL}/messages$`));
    expect(post!.body).not.toHaveProperty('message_reference');
    expect(post!.body.allowed_mentions).toEqual({ parse: ['everyone'] });
    expect(post!.body.content).toContain('@here Not taken yet: this request for a person was raised 30 min ago (ep_0123456789abcdef, reminder 3 of 3).');
    expect(fake.visible(ALERTS_CHANNEL)).toHaveLength(1);
  });

  it('a reminder Discord does not take throws (the worker retries); a target without a valid channel makes no request', async () => {
    const r = record();
    const sent = await notifier.send(r);
    fake.failures.push({ method: 'POST', pattern: /\/messages$/, times: 100, status: 500, code: 0 });
    await expect(notifier.remind(r, sent, { n: 1, of: 3, minutes: 10 })).rejects.toThrow();
    fake.failures.length = 0;
    const calls = fake.calls.length;
    await expect(notifier.remind({ ...r, target: { ...r.target, discordChannel: '../../webhooks/1' } }, undefined, { n: 1, of: 3, minutes: 10 })).rejects.toThrow(/channel/);
    expect(fake.calls).toHaveLength(calls);
  });

  it('refuses a target without a valid Discord channel id (no request made)', async () => {
    const r = record();
    await expect(notifier.send({ ...r, target: { ...r.target, discordChannel: '../../webhooks/1' } })).rejects.toThrow(/channel/);
    expect(fake.calls).toEqual([]);
  });
});

describe('discordConversationLink', () => {
  it('links a guild thread and a DM message', async () => {
    expect(await discordConversationLink(alert())).toBe(`https://discord.com/channels/${GUILD_ID}/${THREAD}/${MESSAGE}`);
    const dm = alert({ sessionId: `discord:dm:${DM}`, origin: { replyTo: { channelId: DM }, messageId: MESSAGE }, tenant: undefined });
    expect(await discordConversationLink(dm)).toBe(`https://discord.com/channels/@me/${DM}/${MESSAGE}`);
  });

  it('has no link for another platform, or when a part is missing or not a snowflake', async () => {
    const cases: Array<Partial<SafetyAlert>> = [
      { platform: 'slack' },
      { origin: undefined },
      { origin: { replyTo: {} , messageId: MESSAGE } },
      { origin: { replyTo: { channelId: THREAD } } },
      { origin: { replyTo: { channelId: 'javascript:alert(1)' }, messageId: MESSAGE } },
      { origin: { replyTo: { channelId: THREAD }, messageId: '1/../../x' } },
      { origin: { replyTo: { channelId: 42 }, messageId: MESSAGE } },
      { sessionId: `discord:evil.example:${THREAD}` },
      { sessionId: 'discord:dm' },
      { sessionId: `slack:T1:${THREAD}` },
    ];
    for (const c of cases) expect(await discordConversationLink(alert(c)), JSON.stringify(c)).toBeUndefined();
  });
});
