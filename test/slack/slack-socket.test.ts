/** The Slack adapter on the real Bolt App in Socket Mode, against a local fake Slack WebSocket. */
import { afterEach, describe, expect, it } from 'vitest';
import { createSlackApp, type SlackRunner } from '../../adapters/slack/slack-app.js';
import { MemoryMarks, silentLogger } from '../../src/index.js';
import { BOT_USER, FakeSlack, TEAM, eventCallback } from '../fakes/slack.js';
import { makeEngine } from '../helpers.js';
import { pause } from '../wait.js';

let runner: SlackRunner | undefined;
let fake: FakeSlack;
afterEach(async () => {
  await runner?.stop();
  await fake.stop();
});

async function startSocketBot() {
  fake = new FakeSlack();
  const apiUrl = await fake.start();
  runner = createSlackApp({ botToken: 'xoxb-test', appToken: 'xapp-test', apiUrl, port: 0, allowChannels: true }, { engine: makeEngine().engine, marks: new MemoryMarks(), logger: silentLogger });
  expect(runner.mode).toBe('socket');
  await runner.start();
}

/** After the last reply and every ack, how long no further reply may come (a redelivery answered twice would post by then). */
const QUIET_MS = 200;

let seq = 0;
const ts = () => `1700000100.${String(++seq).padStart(6, '0')}`;

describe('Slack over Socket Mode (real Bolt App)', () => {
  it('connects through apps.connections.open, acks each envelope and answers a DM', async () => {
    await startSocketBot();
    expect(fake.of('apps.connections.open')).toHaveLength(1);
    const id = await fake.sendEnvelope('events_api', eventCallback({ type: 'message', channel: 'D0DM', channel_type: 'im', user: 'U0PERSON', text: 'hello', ts: ts() }));
    await fake.waitForAck(id);
    const [post] = await fake.waitFor('chat.postMessage');
    expect(post!.args.channel).toBe('D0DM');
    expect(String(post!.args.text)).toContain('automated self-help guide');
  });

  it('mention -> thread, follow-up in the thread -> same session; a redelivered envelope -> one reply', async () => {
    await startSocketBot();
    const root = ts();
    const mention = eventCallback({ type: 'app_mention', channel: 'C0CHAN', user: 'U0PERSON', text: `<@${BOT_USER}> hello`, ts: root });
    const envelopes = [await fake.sendEnvelope('events_api', mention)];
    envelopes.push(await fake.sendEnvelope('events_api', mention)); // Slack redelivers when an ack is late
    await fake.waitFor('chat.postMessage');
    envelopes.push(await fake.sendEnvelope('events_api', eventCallback({ type: 'message', channel: 'C0CHAN', channel_type: 'channel', user: 'U0PERSON', text: 'I want to feel calm', ts: ts(), thread_ts: root })));
    const posts = await fake.waitFor('chat.postMessage', 2);
    for (const id of envelopes) await fake.waitForAck(id);
    await pause(QUIET_MS);
    expect(fake.of('chat.postMessage')).toHaveLength(2);
    expect(posts.map((p) => p.args.thread_ts)).toEqual([root, root]);
    expect(String(posts[1]!.args.text)).toContain('calm');
  });

  it('/trt over the socket acks with an ephemeral answer', async () => {
    await startSocketBot();
    const id = await fake.sendEnvelope('slash_commands', { command: '/trt', text: 'help', team_id: TEAM, channel_id: 'C0CHAN', user_id: 'U0PERSON', response_url: 'http://127.0.0.1:1/x', trigger_id: 't' });
    const payload = (await fake.waitForAck(id)) as { response_type: string; text: string };
    expect(payload.response_type).toBe('ephemeral');
    expect(payload.text).toContain('988');
  });

  it('malformed envelopes are acknowledged and dropped at the edge, never reaching Bolt; a DM after them is answered', async () => {
    await startSocketBot();
    const junk: Array<['events_api' | 'slash_commands' | 'interactive', unknown]> = [
      ['events_api', { type: 'event_callback', team_id: TEAM, event_id: 'Ev1', event: null }],
      ['events_api', { type: 'event_callback', team_id: TEAM, event_id: 'Ev2', event: { type: 'app_home_opened', user: 'U0PERSON', tab: 'home', channel: null } }],
      ['events_api', eventCallback({ type: 'message', channel: { id: 'D0DM' }, user: 'U0PERSON', text: 'x', ts: ts() })],
      ['slash_commands', { command: '/trt', text: ['a', 'b'], team_id: TEAM, channel_id: 'D0DM', user_id: 'U0PERSON', response_url: 'http://127.0.0.1:1/x' }],
      ['interactive', { type: 'block_actions', actions: null }],
    ];
    for (const [type, payload] of junk) await fake.waitForAck(await fake.sendEnvelope(type, payload));
    await fake.waitForAck(await fake.sendEnvelope('events_api', eventCallback({ type: 'message', channel: 'D0DM', channel_type: 'im', user: 'U0PERSON', text: 'hello', ts: ts() })));
    const posts = await fake.waitFor('chat.postMessage');
    expect(posts).toHaveLength(1);
    expect(posts[0]!.args.channel).toBe('D0DM');
  });
});
