/** The Slack adapter on the real Bolt App in HTTP mode, against a local fake Slack. */
import { afterEach, describe, expect, it } from 'vitest';
import { createSlackApp, type SlackRunner } from '../../adapters/slack/slack-app.js';
import { MemoryMarks, QueueWorker, RedisMarks, RedisTurnQueue, silentLogger, type Engine, type Marks, type TurnQueue } from '../../src/index.js';
import { BOT_USER, FakeSlack, TEAM, eventCallback, sendCommand, sendSigned } from '../fakes/slack.js';
import { makeEngine, repoConfig } from '../helpers.js';
import { cleanup, client, uniquePrefix } from '../redis/helpers.js';
import { pause, until } from '../wait.js';
import { answeredTurn } from '../turn-results.js';

const SECRET = 'test-signing-secret';
const running: Array<{ runner: SlackRunner; fake: FakeSlack }> = [];
afterEach(async () => {
  for (const { runner, fake } of running.splice(0)) {
    await runner.stop();
    await fake.stop();
  }
});

type TestEngine = Pick<Engine, 'handleTurn' | 'texts' | 'noteLateDelivery' | 'crisisResponse'>;
async function startBot(opts: { engine?: TestEngine; marks?: Marks; queue?: TurnQueue; allowChannels?: boolean; fake?: FakeSlack; placeholderAfterMs?: number; redeliverDelaysMs?: number[] } = {}) {
  const fake = opts.fake ?? new FakeSlack();
  const apiUrl = opts.fake ? `http://127.0.0.1:${fake.port}/api/` : await fake.start();
  const runner = createSlackApp(
    { botToken: 'xoxb-test', signingSecret: SECRET, apiUrl, port: 0, allowChannels: opts.allowChannels ?? true },
    {
      engine: opts.engine ?? makeEngine().engine,
      marks: opts.marks ?? new MemoryMarks(),
      logger: silentLogger,
      ...(opts.queue ? { queue: opts.queue } : {}),
      ...(opts.placeholderAfterMs !== undefined ? { placeholderAfterMs: opts.placeholderAfterMs } : {}),
      ...(opts.redeliverDelaysMs ? { redeliverDelaysMs: opts.redeliverDelaysMs } : {}),
    },
  );
  const port = await runner.start();
  running.push({ runner, fake });
  return { fake, runner, url: `http://127.0.0.1:${port}/slack/events` };
}

let seq = 0;
const ts = () => `1700000000.${String(++seq).padStart(6, '0')}`;
const dm = (text: string, extra: Record<string, unknown> = {}) => ({ type: 'message', channel: 'D0DM', channel_type: 'im', user: 'U0PERSON', text, ts: ts(), ...extra });
const DISCLOSURE = repoConfig().responses.disclosure;
/**
 * A test that asserts nothing more was posted waits this long after the last event it can
 * observe (its requests answered, the replies it expects): a turn that wrongly ran, or ran
 * twice, would have posted by then.
 */
const QUIET_MS = 300;
/** Engines slower than the placeholder delay (50 ms here), and than the slash command's ack budget (scenario, not synchronisation). */
const SLOW_REPLY_MS = 300;
const SLOW_COMMAND_MS = 2500;

describe('Slack over HTTP (real Bolt App)', () => {
  it('answers a DM in the DM, acknowledging before the turn runs', async () => {
    const { fake, url } = await startBot();
    const res = await sendSigned(url, eventCallback(dm('hello')), SECRET);
    expect(res.status).toBe(200);
    const [post] = await fake.waitFor('chat.postMessage');
    expect(post!.args).toMatchObject({ channel: 'D0DM' });
    expect(post!.args.thread_ts).toBeUndefined();
    expect(String(post!.args.text)).toContain('automated self-help guide');
  });

  it('a mention replies in a thread; a follow-up in the thread continues the same session without a mention', async () => {
    const { fake, url } = await startBot();
    const root = ts();
    await sendSigned(url, eventCallback({ type: 'app_mention', channel: 'C0CHAN', user: 'U0PERSON', text: `<@${BOT_USER}> hello`, ts: root }), SECRET);
    const [first] = await fake.waitFor('chat.postMessage');
    expect(first!.args).toMatchObject({ channel: 'C0CHAN', thread_ts: root });
    expect(String(first!.args.text)).toContain('visible to members of this channel');
    await sendSigned(url, eventCallback({ type: 'message', channel: 'C0CHAN', channel_type: 'channel', user: 'U0PERSON', text: 'I want to feel calm', ts: ts(), thread_ts: root }), SECRET);
    const [, second] = await fake.waitFor('chat.postMessage', 2);
    expect(second!.args).toMatchObject({ channel: 'C0CHAN', thread_ts: root });
    expect(String(second!.args.text)).toContain('calm'); // the vision step: same session
    expect(String(second!.args.text)).not.toContain('visible to members'); // the notice comes once
  });

  it('ignores channel messages outside its threads, its own and other bots\' messages, and edits', async () => {
    const { fake, url } = await startBot();
    await sendSigned(url, eventCallback({ type: 'message', channel: 'C0CHAN', channel_type: 'channel', user: 'U0PERSON', text: 'just chatting', ts: ts() }), SECRET);
    await sendSigned(url, eventCallback(dm('from a bot', { bot_id: 'B0OTHER' })), SECRET);
    await sendSigned(url, eventCallback(dm('edited', { subtype: 'message_changed' })), SECRET);
    await sendSigned(url, eventCallback(dm('me', { user: BOT_USER })), SECRET);
    await pause(QUIET_MS);
    expect(fake.of('chat.postMessage')).toEqual([]);
  });

  it('a retried event, or a mention delivered as message and app_mention, is one turn with one reply', async () => {
    const { fake, url } = await startBot();
    const event = eventCallback(dm('hello'));
    await sendSigned(url, event, SECRET);
    await sendSigned(url, event, SECRET, { retryNum: 1 });
    await sendSigned(url, event, SECRET, { retryNum: 2 });
    const root = ts();
    await sendSigned(url, eventCallback({ type: 'app_mention', channel: 'C0CHAN', user: 'U0PERSON', text: `<@${BOT_USER}> hi`, ts: root }), SECRET);
    await sendSigned(url, eventCallback({ type: 'message', channel: 'C0CHAN', channel_type: 'channel', user: 'U0PERSON', text: `<@${BOT_USER}> hi`, ts: root }), SECRET);
    await fake.waitFor('chat.postMessage', 2);
    await pause(QUIET_MS);
    expect(fake.of('chat.postMessage')).toHaveLength(2);
  });

  it('rejects a forged signature and a timestamp older than five minutes with 401', async () => {
    const { fake, url } = await startBot();
    expect((await sendSigned(url, eventCallback(dm('hi')), SECRET, { forge: true })).status).toBe(401);
    expect((await sendSigned(url, eventCallback(dm('hi')), SECRET, { timestamp: Math.floor(Date.now() / 1000) - 6 * 60 })).status).toBe(401);
    await pause(QUIET_MS);
    expect(fake.of('chat.postMessage')).toEqual([]);
  });

  it('a 429 is retried after Retry-After, without holding up another session', async () => {
    const { fake, url } = await startBot();
    fake.rateLimits.set('chat.postMessage', { times: 1, retryAfter: 1 });
    await sendSigned(url, eventCallback(dm('hello', { channel: 'D0ONE' })), SECRET);
    await fake.waitFor('chat.postMessage', 1);
    await sendSigned(url, eventCallback(dm('hello', { channel: 'D0TWO' })), SECRET);
    const posts = await fake.waitFor('chat.postMessage', 3, 5000);
    expect(posts.map((p) => p.args.channel)).toEqual(['D0ONE', 'D0TWO', 'D0ONE']); // D0TWO did not wait for D0ONE's retry
    expect(posts[2]!.at - posts[0]!.at).toBeGreaterThanOrEqual(900);
  });

  it('splits a 9,000-character reply at paragraph boundaries, each piece at most 3,500 characters', async () => {
    const paragraph = `${'This is a sentence about noticing the body. '.repeat(20).trim()}`; // ~880 characters
    const long = Array.from({ length: 10 }, () => paragraph).join('\n\n');
    expect(long.length).toBeGreaterThan(8800);
    const engine: TestEngine = { texts: { disclosure: 'd', help: 'h', unavailable: 'u', unsure: 'maybe' },
      crisisResponse: () => null, noteLateDelivery: async () => undefined, handleTurn: async (i) => answeredTurn(i.sessionId, long) };
    const { fake, url } = await startBot({ engine });
    await sendSigned(url, eventCallback(dm('tell me everything')), SECRET);
    await fake.waitFor('chat.postMessage', 4);
    await pause(QUIET_MS);
    const pieces = fake.of('chat.postMessage').map((p) => String(p.args.text));
    expect(pieces).toHaveLength(4); // three ~880-character paragraphs fit under 3,500; a fourth would not
    for (const p of pieces) expect(p.length).toBeLessThanOrEqual(3500);
    expect(pieces.join('\n\n')).toBe(long); // nothing lost, paragraphs whole
  });

  it('shows a placeholder while a slow reply is made, then updates it in place', async () => {
    const engine: TestEngine = {
      texts: { disclosure: 'd', help: 'h', unavailable: 'u', unsure: 'maybe' },
      crisisResponse: () => null,
      noteLateDelivery: async () => undefined,
      handleTurn: async (i) => {
        await pause(SLOW_REPLY_MS);
        return answeredTurn(i.sessionId, 'Here is your **answer**.');
      },
    };
    const { fake, url } = await startBot({ engine, placeholderAfterMs: 50 });
    await sendSigned(url, eventCallback(dm('slow please')), SECRET);
    const [update] = await fake.waitFor('chat.update');
    expect(String(fake.of('chat.postMessage')[0]!.args.text)).toContain('One moment');
    expect(update!.args.text).toBe('Here is your *answer*.'); // Markdown converted to mrkdwn
  });

  it('a reply that cannot be posted is not recorded: the queue redoes the turn and the person gets it once', async () => {
    const { engine, store } = makeEngine();
    const { fake, url } = await startBot({ engine, redeliverDelaysMs: [100] });
    fake.failures.set('chat.postMessage', { times: 1, error: 'internal_error' });
    await sendSigned(url, eventCallback(dm('hello', { channel: 'D0LOST' })), SECRET);
    const posts = await fake.waitFor('chat.postMessage', 2, 5000);
    expect(posts[1]!.at - posts[0]!.at).toBeGreaterThanOrEqual(900); // the in-process queue retries after 1 s
    // Recorded once it was delivered: the last event this test can see; then nothing more may be posted.
    await until(async () => (await store.history(`slack:${TEAM}:D0LOST`)).length >= 2, { timeoutMs: 5000, what: 'the turn to be recorded' });
    await pause(QUIET_MS);
    expect(fake.of('chat.postMessage')).toHaveLength(2); // the failed attempt and the one that got through
    const history = await store.history(`slack:${TEAM}:D0LOST`);
    expect(history.map((h) => h.role)).toEqual(['user', 'bot']); // recorded once, when it was delivered
  });

  it('with channels switched off, refuses in the channel and points to DMs; a crisis statement still gets the crisis response', async () => {
    const { fake, url } = await startBot({ allowChannels: false });
    await sendSigned(url, eventCallback({ type: 'app_mention', channel: 'C0CHAN', user: 'U0PERSON', text: `<@${BOT_USER}> hi`, ts: ts() }), SECRET);
    const [post] = await fake.waitFor('chat.postMessage');
    expect(String(post!.args.text)).toContain('direct message');
    expect(String(post!.args.text)).not.toContain('988');
    await sendSigned(url, eventCallback({ type: 'app_mention', channel: 'C0CHAN', user: 'U0PERSON', text: `<@${BOT_USER}> I want to kill myself`, ts: ts() }), SECRET);
    const [, crisis] = await fake.waitFor('chat.postMessage', 2);
    expect(String(crisis!.args.text)).toContain('988');
  });

  it('answers messages whose subtype carries text (a file with a caption), and /trt free text gets the crisis check', async () => {
    const { fake, url } = await startBot();
    await sendSigned(url, eventCallback(dm('here is a photo, I want to feel calm', { subtype: 'file_share' })), SECRET);
    const [post] = await fake.waitFor('chat.postMessage');
    expect(String(post!.args.text)).toContain('calm');
    expect((await sendCommand(url, SECRET, { text: 'I want to end my life', channel_id: 'D0DM' })).body.text).toContain('988');
  });

  it('/trt answers ephemerally; in a DM it runs the command on the DM session', async () => {
    const { url } = await startBot();
    const command = async (text: string, channel: string) => (await sendCommand(url, SECRET, { text, channel_id: channel })).body;
    const help = await command('help', 'C0CHAN');
    expect(help.response_type).toBe('ephemeral');
    expect(help.text).toContain('988');
    expect((await command('status', 'D0DM')).text).toContain('step 1 of 5');
    expect((await command('reset', 'C0CHAN')).text).toContain('type `reset`');
  });

  it('a slow /trt is acked within the deadline and answered through response_url', async () => {
    const engine: TestEngine = {
      texts: { disclosure: 'd', help: 'h', unavailable: 'u', unsure: 'maybe' },
      crisisResponse: () => null,
      noteLateDelivery: async () => undefined,
      handleTurn: async (i) => {
        await pause(SLOW_COMMAND_MS);
        return answeredTurn(i.sessionId, 'You are on step 2 of 5.', { kind: 'command' });
      },
    };
    const { fake, url } = await startBot({ engine });
    const { ms, body } = await sendCommand(url, SECRET, { text: 'status', channel_id: 'D0DM', response_url: `http://127.0.0.1:${fake.port}/respond` });
    expect(ms).toBeLessThan(3000);
    expect(body.text).toContain('One moment');
    const [answer] = await fake.waitFor('/respond', 1, 5000);
    expect(answer!.args).toMatchObject({ response_type: 'ephemeral', text: 'You are on step 2 of 5.' });
  });

  it('publishes the App Home tab with the introduction and the disclosure', async () => {
    const { fake, url } = await startBot();
    await sendSigned(url, eventCallback({ type: 'app_home_opened', user: 'U0PERSON', channel: 'D0DM', tab: 'home' }), SECRET);
    const [publish] = await fake.waitFor('views.publish');
    expect(publish!.args.user_id).toBe('U0PERSON');
    expect(JSON.stringify(publish!.args.view)).toContain(DISCLOSURE.slice(0, 40));
  });

  it('dedupe is shared by every instance through the Redis queue: a retry at another instance is no second turn', async () => {
    const prefix = uniquePrefix();
    const fake = new FakeSlack();
    await fake.start();
    const redis = client();
    const queue = () => new RedisTurnQueue({ client: redis, prefix });
    const a = await startBot({ fake, marks: new RedisMarks(redis, prefix), queue: queue() });
    const b = await startBot({ fake, marks: new RedisMarks(redis, prefix), queue: queue() });
    const { engine } = makeEngine();
    const worker = new QueueWorker({ queue: queue(), reader: client(), runner: { engine, outlets: { slack: a.runner.outlet }, logger: silentLogger }, logger: silentLogger, blockMs: 200 });
    await worker.start();
    const event = eventCallback(dm('hello'));
    await Promise.all([sendSigned(a.url, event, SECRET), sendSigned(b.url, event, SECRET, { retryNum: 1 })]);
    await fake.waitFor('chat.postMessage');
    await pause(QUIET_MS);
    expect(fake.of('chat.postMessage')).toHaveLength(1);
    await worker.stop(1000);
    redis.disconnect();
    await cleanup(prefix);
  });
});
