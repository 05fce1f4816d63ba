/** Safety alerts posted to Slack: SlackAlertNotifier and the permalink resolver, a real WebClient against the fake Slack. */
import { WebClient } from '@slack/web-api';
import { afterEach, describe, expect, it } from 'vitest';
import { SlackAlertNotifier, slackConversationLink } from '../../adapters/slack/alert-notifier.js';
import { webClientOptions } from '../../adapters/slack/slack-app.js';
import { ACK_ACTION, type AlertRecord, type Logger, type SafetyAlert } from '../../src/index.js';
import { FakeSlack } from '../fakes/slack.js';

const fakes: FakeSlack[] = [];
afterEach(async () => {
  for (const f of fakes.splice(0)) await f.stop();
});

async function setup() {
  const fake = new FakeSlack();
  const apiUrl = await fake.start();
  fakes.push(fake);
  const client = new WebClient('xoxb-test', webClientOptions(apiUrl));
  return { fake, client, notifier: new SlackAlertNotifier(client) };
}

/** Never in a message unless the tenant includes text. */
const WORDS = 'I cannot go on <anymore> & nobody would notice';

function alert(extra: Partial<SafetyAlert> = {}): SafetyAlert {
  return {
    episode: 'ep_0123456789abcdef',
    kind: 'crisis',
    platform: 'slack',
    tenant: 'acme',
    sessionId: 'slack:T0TEAM:D0DM',
    userId: 'U0PERSON',
    at: '2026-12-03T07:30:00.000Z',
    origin: { replyTo: { channel: 'D0DM' }, messageId: 'D0DM:1700000000.000100' },
    ...extra,
  };
}

function record(a: SafetyAlert, extra: Partial<AlertRecord> = {}): AlertRecord {
  return { alert: a, target: { slackChannel: 'C0ALERTS', includeText: a.text !== undefined, team: 'the care team' }, sent: {}, failed: [], ...extra };
}

interface Block {
  type: string;
  text?: { text: string };
  elements?: Array<{ type: string; action_id: string; value: string; style: string; text: { text: string } }>;
}
const sectionText = (blocks: unknown[] | undefined) => (blocks as Block[]).filter((b) => b.type === 'section').map((b) => b.text!.text).join('\n');
const buttons = (blocks: unknown[] | undefined) => (blocks as Block[]).filter((b) => b.type === 'actions').flatMap((b) => b.elements ?? []);

function capture(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const log = (obj: object, msg?: string) => void lines.push(JSON.stringify({ ...obj, msg }));
  return { logger: { debug: log, info: log, warn: log, error: log }, lines };
}

describe('SlackAlertNotifier', () => {
  it('posts the alert in the responders\' channel with the lines, the person mentioned, and an "I\'m on it" button', async () => {
    const { fake, notifier } = await setup();
    const sent = await notifier.send(record(alert()));
    const [post] = fake.of('chat.postMessage');
    expect(post!.args.channel).toBe('C0ALERTS');
    expect(sent).toEqual({ channel: 'C0ALERTS', id: [...fake.messages.keys()][0] });
    const message = fake.messages.get(sent!.id)!;
    expect(message.text).toContain('The crisis protocol fired'); // the plain fallback
    expect(message.text).toContain('Episode: ep_0123456789abcdef');
    const section = sectionText(message.blocks);
    expect(section).toContain('Kind: crisis statement');
    expect(section).toContain('Platform: slack · tenant acme');
    expect(section).toContain('Person: <@U0PERSON> · session slack:T0TEAM:D0DM');
    expect(section).toContain('When: 2026-12-03 07:30:00 UTC');
    expect(buttons(message.blocks)).toEqual([expect.objectContaining({ type: 'button', action_id: ACK_ACTION, value: 'ep_0123456789abcdef', style: 'primary', text: expect.objectContaining({ text: "I'm on it" }) })]);
    expect(JSON.stringify(post!.args)).not.toContain('cannot go on');
  });

  it('a person on another platform is named, not mentioned; a requested alert says so', async () => {
    const { fake, notifier } = await setup();
    await notifier.send(record(alert({ platform: 'discord', userId: '123456789012345678', kind: 'requested', origin: undefined })));
    const [m] = fake.visible('C0ALERTS');
    expect(m!.text).toContain('A person asked to talk to a human');
    expect(sectionText(m!.blocks)).toContain('Person: 123456789012345678 · session');
    expect(JSON.stringify(m!.blocks)).not.toContain('<@');
  });

  it('a drill (kind test) says plainly that nobody is in danger, with the button to try', async () => {
    const { fake, notifier } = await setup();
    await notifier.send(record(alert({ kind: 'test', platform: 'test', tenant: undefined, sessionId: 'test', userId: 'cli:dana', origin: undefined })));
    const [m] = fake.visible('C0ALERTS');
    expect(m!.text).toMatch(/^Test safety alert: nobody is in danger/);
    expect(sectionText(m!.blocks)).toContain('Kind: test (npm run safety -- test): nobody is in danger');
    expect(sectionText(m!.blocks)).toContain('Person: cli:dana · session test');
    expect(buttons(m!.blocks).map((b) => b.action_id)).toEqual(['safety_ack']);
    expect(JSON.stringify(m!.blocks)).not.toContain('<@');
  });

  it('the message text appears only when the tenant includes it, escaped for mrkdwn', async () => {
    const { fake, notifier } = await setup();
    await notifier.send(record(alert()));
    await notifier.send(record(alert({ episode: 'ep_00000000000000aa', text: WORDS })));
    const [without, withText] = fake.visible('C0ALERTS');
    expect(JSON.stringify(without)).not.toContain('cannot go on');
    expect(sectionText(withText!.blocks)).toContain('Message (this tenant includes text): I cannot go on &lt;anymore&gt; &amp; nobody would notice');
    expect(withText!.text).not.toContain('<anymore>');
  });

  it('resolves the permalink of the message that fired the protocol, and posts it as the conversation link', async () => {
    const { fake, client, notifier } = await setup();
    const link = slackConversationLink(client, capture().logger);
    const url = await link(alert());
    expect(fake.of('chat.getPermalink')[0]!.args).toMatchObject({ channel: 'D0DM', message_ts: '1700000000.000100' });
    expect(url).toBe('https://fake.slack.com/archives/D0DM/p1700000000000100');
    await notifier.send(record(alert(), { link: url }));
    expect(sectionText(fake.visible('C0ALERTS')[0]!.blocks)).toContain('Conversation: https://fake.slack.com/archives/D0DM/p1700000000000100');
  });

  it('no link for other platforms or a malformed message id; a failed permalink is a warning without text, and no link', async () => {
    const { fake, client } = await setup();
    const { logger, lines } = capture();
    const link = slackConversationLink(client, logger);
    expect(await link(alert({ platform: 'discord', origin: { replyTo: {}, messageId: 'D0DM:1700000000.000100' } }))).toBeUndefined();
    expect(await link(alert({ origin: { replyTo: {}, messageId: 'D0DM:<junk>' } }))).toBeUndefined();
    expect(await link(alert({ origin: undefined }))).toBeUndefined();
    expect(fake.of('chat.getPermalink')).toEqual([]);
    fake.failures.set('chat.getPermalink', { times: 1, error: 'message_not_found' });
    expect(await link(alert({ text: WORDS }))).toBeUndefined();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('ep_0123456789abcdef');
    expect(lines[0]).not.toContain('cannot go on');
  });

  it('once taken, the alert is edited: the same lines, who took it (mentioned), and no button', async () => {
    const { fake, notifier } = await setup();
    const r = record(alert(), { link: 'https://fake.slack.com/archives/D0DM/p1700000000000100' });
    const sent = await notifier.send(r);
    await notifier.acknowledged(r, sent, { by: 'slack:U0RESPONDER', at: '2026-12-03T07:31:05.123Z' });
    const m = fake.messages.get(sent!.id)!;
    expect(m.edits).toBe(1);
    expect(fake.of('chat.update')[0]!.args).toMatchObject({ channel: 'C0ALERTS', ts: sent!.id });
    const section = sectionText(m.blocks);
    expect(section).toContain('Taken by <@U0RESPONDER> at 2026-12-03 07:31:05 UTC.');
    expect(section).toContain('Episode: ep_0123456789abcdef');
    expect(section).toContain('Conversation: https://fake.slack.com/archives/D0DM/p1700000000000100');
    expect(m.text).toContain('Taken by <@U0RESPONDER>');
    expect(buttons(m.blocks)).toEqual([]);
  });

  it('taken after reminders: the channel, which saw "Not taken yet", is told it is taken in the thread; without reminders nothing is posted', async () => {
    const { fake, notifier } = await setup();
    const ack = { by: 'slack:U0RESPONDER', at: '2026-12-03T07:41:05.000Z' };
    const r = record(alert());
    const sent = await notifier.send(r);
    await notifier.acknowledged(r, sent, ack);
    expect(fake.of('chat.postMessage')).toHaveLength(1); // the alert only
    await notifier.acknowledged({ ...r, reminded: { slack: 1 } }, sent, ack);
    const reply = fake.of('chat.postMessage')[1]!.args;
    expect(reply).toMatchObject({ channel: 'C0ALERTS', thread_ts: sent!.id, reply_broadcast: 'true' });
    expect(String(reply.text)).toBe('Taken by <@U0RESPONDER> at 2026-12-03 07:41:05 UTC.');
  });

  it('taken from the CLI: the operator\'s name, escaped, not a mention', async () => {
    const { fake, notifier } = await setup();
    const r = record(alert());
    const sent = await notifier.send(r);
    await notifier.acknowledged(r, sent, { by: 'cli:<sam>', at: '2026-12-03T07:31:05Z' });
    expect(sectionText(fake.messages.get(sent!.id)!.blocks)).toContain('Taken by cli:&lt;sam&gt; at 2026-12-03 07:31:05 UTC.');
  });

  it('a refusal from Slack throws (the worker retries), for the post and for the edit', async () => {
    const { fake, notifier } = await setup();
    const r = record(alert());
    fake.failures.set('chat.postMessage', { times: 1, error: 'channel_not_found' });
    await expect(notifier.send(r)).rejects.toThrow(/channel_not_found/);
    const sent = await notifier.send(r); // the retry
    fake.failures.set('chat.update', { times: 1, error: 'message_not_found' });
    await expect(notifier.acknowledged(r, sent, { by: 'slack:U0RESPONDER', at: '2026-12-03T07:31:05Z' })).rejects.toThrow(/message_not_found/);
    await expect(notifier.send(record(alert(), { target: { includeText: false, team: 'x' } }))).rejects.toThrow(/no Slack channel/);
  });

  it('a reminder replies in the alert\'s thread, broadcast to the channel, with @here and the reminder line, never the person\'s words', async () => {
    const { fake, notifier } = await setup();
    const r = record(alert({ text: WORDS }));
    const sent = await notifier.send(r);
    await notifier.remind(r, sent, { n: 1, of: 3, minutes: 10 });
    const [, post] = fake.of('chat.postMessage');
    // Form-encoded on the wire, as WebClient sends it: the booleans arrive as strings.
    expect(post!.args).toMatchObject({ channel: 'C0ALERTS', thread_ts: sent!.id, reply_broadcast: 'true', unfurl_links: 'false', unfurl_media: 'false' });
    const reply = fake.visible('C0ALERTS').find((m) => m.threadTs === sent!.id)!;
    expect(reply.text.startsWith('<!here> ')).toBe(true);
    expect(reply.text).toContain('Not taken yet: this safety alert was raised 10 min ago (ep_0123456789abcdef, reminder 1 of 3).');
    expect(reply.blocks).toBeUndefined();
    expect(JSON.stringify(post!.args)).not.toContain('cannot go on');
    expect(fake.messages.get(sent!.id)!.edits).toBe(0); // the alert itself stays as posted
  });

  it('a reminder for an alert never posted is a plain message in the target\'s channel', async () => {
    const { fake, notifier } = await setup();
    await notifier.remind(record(alert({ kind: 'requested' })), undefined, { n: 2, of: 3, minutes: 20 });
    const [post] = fake.of('chat.postMessage');
    expect(post!.args.channel).toBe('C0ALERTS');
    expect(post!.args).not.toHaveProperty('thread_ts');
    expect(post!.args).not.toHaveProperty('reply_broadcast');
    const [m] = fake.visible('C0ALERTS');
    expect(m!.threadTs).toBeUndefined();
    expect(m!.text).toBe('<!here> Not taken yet: this request for a person was raised 20 min ago (ep_0123456789abcdef, reminder 2 of 3). Press "I\'m on it" on the alert if you are reaching out.');
  });

  it('a refused reminder throws (the worker retries); no channel at all throws without a call', async () => {
    const { fake, notifier } = await setup();
    const r = record(alert());
    const sent = await notifier.send(r);
    fake.failures.set('chat.postMessage', { times: 1, error: 'channel_not_found' });
    await expect(notifier.remind(r, sent, { n: 1, of: 3, minutes: 10 })).rejects.toThrow(/channel_not_found/);
    const calls = fake.calls.length;
    await expect(notifier.remind(record(alert(), { target: { includeText: false, team: 'x' } }), undefined, { n: 1, of: 3, minutes: 10 })).rejects.toThrow(/no Slack channel/);
    expect(fake.calls).toHaveLength(calls);
  });
});
