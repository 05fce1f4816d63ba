/** SlackDelivery with the real WebClient against the fake Slack: what a queued turn's reply does when Slack fails. */
import { webApi } from '@slack/bolt';
import { afterEach, expect, it } from 'vitest';
import { SlackDelivery } from '../../adapters/slack/delivery.js';
import { silentLogger } from '../../src/index.js';
import { FakeSlack, TEAM } from '../fakes/slack.js';
import { makeEngine } from '../helpers.js';
import { pause, until } from '../wait.js';

let fake: FakeSlack | undefined;
afterEach(async () => fake?.stop());

const paragraph = 'This is a sentence about noticing the body. '.repeat(20).trim(); // ~880 characters
const LONG = Array.from({ length: 6 }, () => paragraph).join('\n\n'); // two pieces of at most 3,500
/** Redeliveries are scheduled 50 ms after a failure: nothing in four times that means none was scheduled. */
const REDELIVERY_MS = 50;
const QUIET_MS = 4 * REDELIVERY_MS;

async function setup() {
  fake = new FakeSlack();
  const apiUrl = await fake.start();
  const client = new webApi.WebClient('xoxb-test', { slackApiUrl: apiUrl, rejectRateLimitedCalls: true, retryConfig: { retries: 0 } });
  const { engine, store } = makeEngine();
  const sessionId = `slack:${TEAM}:D0PART`;
  await engine.handleTurn({ sessionId, userId: 'U1', platform: 'slack', text: 'hello' }); // the session exists
  const late: string[] = [];
  const delivery = new SlackDelivery({ logger: silentLogger, redeliverDelaysMs: [REDELIVERY_MS], onLateDelivery: (id) => void engine.noteLateDelivery(id).then(() => late.push(id)) });
  return { fake, client, store, sessionId, late, delivery, place: { sessionId, channel: 'D0PART', threadTs: undefined, isDm: true } };
}

it('a queued reply nothing of which was posted reports false and schedules nothing (the queue redoes the turn)', async () => {
  const { fake, client, delivery, place } = await setup();
  fake.failures.set('chat.postMessage', { times: 1, error: 'internal_error' });
  expect(await delivery.reply(client, place, 'hello', { queued: true })).toBe(false);
  await pause(QUIET_MS);
  expect(fake.of('chat.postMessage')).toHaveLength(1); // no redelivery from here
});

it('the rest of a partly posted reply is redelivered, and the session notes it went out late', async () => {
  const { fake, client, store, sessionId, late, delivery, place } = await setup();
  fake.failures.set('chat.postMessage', { times: 1, error: 'internal_error' }); // the first piece replaces the placeholder; the second fails once
  expect(await delivery.reply(client, place, LONG, { into: '1700000000.000001', queued: true })).toBe(true);
  await fake.waitFor('chat.postMessage', 2, 2000);
  await until(() => late.length > 0, { timeoutMs: 2000, what: 'the late delivery to be noted' });
  expect(late).toEqual([sessionId]);
  expect((await store.history(sessionId)).at(-1)).toMatchObject({ role: 'system', action: 'delivered' });
  expect(fake.of('chat.update')).toHaveLength(1);
});
