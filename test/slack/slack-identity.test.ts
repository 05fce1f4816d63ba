/**
 * The bot's identity (auth.test) failing must cost nothing: Bolt acks an event whose
 * authorisation fails, so such an event would be lost. Regression found in review.
 */
import { afterEach, expect, it } from 'vitest';
import { createSlackApp, type SlackRunner } from '../../adapters/slack/slack-app.js';
import { MemoryMarks, silentLogger } from '../../src/index.js';
import { FakeSlack, eventCallback, sendSigned } from '../fakes/slack.js';
import { makeEngine } from '../helpers.js';

const SECRET = 'identity-secret';
const running: Array<{ runner: SlackRunner; fake: FakeSlack }> = [];
afterEach(async () => {
  for (const { runner, fake } of running.splice(0)) {
    await runner.stop();
    await fake.stop();
  }
});

it('a message that arrives while auth.test fails is still answered, and the identity is asked for again', async () => {
  const fake = new FakeSlack();
  const apiUrl = await fake.start();
  fake.failures.set('auth.test', { times: 1, error: 'internal_error' });
  const runner = createSlackApp(
    { botToken: 'xoxb-test', signingSecret: SECRET, apiUrl, port: 0, allowChannels: true },
    { engine: makeEngine().engine, marks: new MemoryMarks(), logger: silentLogger },
  );
  const port = await runner.start();
  running.push({ runner, fake });
  const dm = (text: string, ts: string) => sendSigned(`http://127.0.0.1:${port}/slack/events`, eventCallback({ type: 'message', channel: 'D0DM', channel_type: 'im', user: 'U0PERSON', text, ts }), SECRET);
  expect((await dm('hello', '1700000000.000001')).status).toBe(200);
  await fake.waitFor('chat.postMessage');
  expect((await dm('I want to feel calm', '1700000000.000002')).status).toBe(200);
  await fake.waitFor('chat.postMessage', 2);
  expect(fake.of('auth.test').length).toBe(2); // failed once, asked again, then kept
});
