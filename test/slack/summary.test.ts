/**
 * `summary` and `breathe` on Slack: as a DM message and as `/trt summary` / `/trt breathe` in
 * the DM, on the real Bolt App (HTTP and Socket Mode) against the local fake Slack; once through
 * the Redis queue and Redis sessions (a key prefix per test).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createSlackApp, type SlackRunner } from '../../adapters/slack/slack-app.js';
import { MemoryMarks, QueueWorker, RedisMarks, RedisSessionStore, RedisTurnQueue, silentLogger, type Engine, type Marks, type TurnQueue } from '../../src/index.js';
import { FakeSlack, TEAM, eventCallback, sendCommand, sendSigned } from '../fakes/slack.js';
import { makeEngine, repoConfig, ROOT } from '../helpers.js';
import { GROUP, QueueKeys } from '../../src/queue/redis/queue-keys.js';
import { cleanup, client, uniquePrefix } from '../redis/helpers.js';
import { until } from '../wait.js';

const SECRET = 'test-signing-secret';
const running: Array<{ runner: SlackRunner; fake: FakeSlack }> = [];
afterEach(async () => {
  for (const { runner, fake } of running.splice(0)) {
    await runner.stop();
    await fake.stop();
  }
});

async function startBot(opts: { engine?: Pick<Engine, 'handleTurn' | 'texts' | 'noteLateDelivery' | 'crisisResponse'>; marks?: Marks; queue?: TurnQueue } = {}) {
  const fake = new FakeSlack();
  const apiUrl = await fake.start();
  const runner = createSlackApp(
    { botToken: 'xoxb-test', signingSecret: SECRET, apiUrl, port: 0, allowChannels: true },
    { engine: opts.engine ?? makeEngine().engine, marks: opts.marks ?? new MemoryMarks(), logger: silentLogger, ...(opts.queue ? { queue: opts.queue } : {}) },
  );
  const port = await runner.start();
  running.push({ runner, fake });
  return { fake, runner, url: `http://127.0.0.1:${port}/slack/events` };
}

const happy = JSON.parse(readFileSync(join(ROOT, 'test', 'conversations', 'happy_path.json'), 'utf8')) as { turns: Array<{ say: string; action?: string }> };
/** What the person says up to and including the handover (the end of stage 1). */
const TO_HANDOVER = happy.turns.slice(0, happy.turns.findIndex((t) => t.action === 'handover') + 1).map((t) => t.say);
/** Up to the vision's "may I explain?": mid-stage. */
const MID_STAGE = TO_HANDOVER.slice(0, 4);
const REST = TO_HANDOVER.slice(4);
const FOUND_AT_END = ['you want to feel calm and present', 'it lives in your chest', 'it starts when an email pings', 'your body felt lighter'];
const RELAXATION = "Here's the short relaxation again.";
const END_OF_STAGE = "That's everything for the first stage.";
const EXPLANATIONS = repoConfig().responses.actions.explain_survival_response;

let seq = 0;
const ts = () => `1700000200.${String(++seq).padStart(6, '0')}`;

/** A person DMing the bot: each message waits for its reply as the person sees it (a placeholder replaced by the answer counts once). */
function dmConversation(fake: FakeSlack, url: string, channel: string) {
  return async (text: string): Promise<string> => {
    const before = fake.visible(channel).length;
    const res = await sendSigned(url, eventCallback({ type: 'message', channel, channel_type: 'im', user: 'U0PERSON', text, ts: ts() }), SECRET);
    expect(res.status).toBe(200);
    const shown = await until(
      () => {
        const m = fake.visible(channel)[before];
        return m && !m.text.includes('One moment') ? m.text : undefined;
      },
      { timeoutMs: 10_000, what: () => `the reply to ${JSON.stringify(text)} in ${channel}; visible: ${JSON.stringify(fake.visible(channel).map((m) => m.text.slice(0, 60)))}` },
    );
    return shown;
  };
}

/** Waits until the session's inbox has no owner and no wake-up is pending: the worker is done with the turn. */
async function queueIdle(redis: ReturnType<typeof client>, prefix: string, sessionId: string): Promise<void> {
  const keys = new QueueKeys(prefix);
  await until(async () => {
    const [pending] = (await redis.xpending(keys.stream, GROUP)) as [number, ...unknown[]];
    return Number(pending) === 0 && (await redis.exists(keys.owner(sessionId))) === 0;
  }, { timeoutMs: 5000, what: 'the queue worker to finish the turn' });
}

const slash = async (url: string, text: string, channel: string) => (await sendCommand(url, SECRET, { text, channel_id: channel })).body;

describe('Slack over HTTP (real Bolt App): summary', () => {
  it('a DM "summary" mid-stage and at the end of stage 1; /trt summary in the DM answers the same, ephemerally', async () => {
    const { fake, url } = await startBot();
    const say = dmConversation(fake, url, 'D0SUM');
    for (const line of MID_STAGE) await say(line);

    const mid = await say('summary');
    expect(mid).toContain('you want to feel calm and present');
    expect(mid).toContain('Still open:');
    const midSlash = await slash(url, 'summary', 'D0SUM');
    expect(midSlash.response_type).toBe('ephemeral');
    expect(midSlash.text).toBe(mid);

    for (const line of REST) await say(line);
    const end = await say('summary');
    for (const s of FOUND_AT_END) expect(end).toContain(s);
    expect(end).toContain(END_OF_STAGE);
    expect(end).not.toContain('Still open');
    const endSlash = await slash(url, 'summary', 'D0SUM');
    expect(endSlash.response_type).toBe('ephemeral');
    expect(endSlash.text).toBe(end);
    // The slash command's answer is ephemeral: nothing more was posted in the DM for it.
    expect(fake.visible('D0SUM')).toHaveLength(TO_HANDOVER.length + 2);
  });

  it('/trt summary as the first thing in a DM says nothing has been gathered yet', async () => {
    const { url } = await startBot();
    const body = await slash(url, 'summary', 'D0NEW');
    expect(body.response_type).toBe('ephemeral');
    expect(body.text).toContain(repoConfig().responses.summary!.nothing_yet);
  });

  it('/trt summary outside a DM points to the thread; an unknown /trt lists summary and breathe', async () => {
    const { url } = await startBot();
    const inChannel = await slash(url, 'summary', 'C0CHAN');
    expect(inChannel.response_type).toBe('ephemeral');
    expect(inChannel.text).toContain('`summary`');
    expect(inChannel.text).toContain('direct messages');
    const usage = await slash(url, 'whatever', 'D0DM');
    expect(usage.text).toMatch(/^Usage: \/trt .*\bsummary\b.*\bbreathe\b/);
  });
});

describe('Slack over HTTP (real Bolt App): breathe', () => {
  it('a DM "breathe" and /trt breathe replay the relaxation; the next DM continues where the conversation was', async () => {
    const { fake, url } = await startBot();
    const say = dmConversation(fake, url, 'D0BREATHE');
    for (const line of MID_STAGE) await say(line);
    expect((await say('breathe')).startsWith(RELAXATION)).toBe(true);
    const viaSlash = await slash(url, 'breathe', 'D0BREATHE');
    expect(viaSlash.response_type).toBe('ephemeral');
    expect(viaSlash.text.startsWith(RELAXATION)).toBe(true);
    expect(EXPLANATIONS).toContain(await say(REST[0]!)); // "sure, go ahead": the explanation, as without breathe
  });
});

describe('Slack over Socket Mode (real Bolt App): /trt summary', () => {
  let runner: SlackRunner | undefined;
  let fake: FakeSlack | undefined;
  afterEach(async () => {
    await runner?.stop();
    await fake?.stop();
    runner = fake = undefined;
  });

  it('answers /trt summary and /trt breathe in a DM in the ack', async () => {
    fake = new FakeSlack();
    const apiUrl = await fake.start();
    runner = createSlackApp({ botToken: 'xoxb-test', appToken: 'xapp-test', apiUrl, port: 0, allowChannels: true }, { engine: makeEngine().engine, marks: new MemoryMarks(), logger: silentLogger });
    await runner.start();
    const command = async (text: string) => {
      const id = await fake!.sendEnvelope('slash_commands', { command: '/trt', text, team_id: TEAM, channel_id: 'D0SOCK', user_id: 'U0PERSON', response_url: 'http://127.0.0.1:1/x', trigger_id: 't' });
      return (await fake!.waitForAck(id)) as { response_type: string; text: string };
    };
    const summary = await command('summary');
    expect(summary.response_type).toBe('ephemeral');
    expect(summary.text).toContain('Still open:');
    const breathe = await command('breathe');
    expect(breathe.text.startsWith(RELAXATION)).toBe(true);
  });
});

describe('Slack through the Redis queue with Redis sessions', () => {
  it('a DM "summary" mid-stage and at the end of stage 1, and "breathe", answered by a queue worker', async () => {
    const prefix = uniquePrefix();
    const redis = client();
    const reader = client();
    const store = new RedisSessionStore({ client: redis, prefix });
    const { engine } = makeEngine({ store });
    const { fake, url, runner } = await startBot({ engine, marks: new RedisMarks(redis, prefix), queue: new RedisTurnQueue({ client: redis, prefix }) });
    const worker = new QueueWorker({ queue: new RedisTurnQueue({ client: redis, prefix }), reader, runner: { engine, outlets: { slack: runner.outlet }, logger: silentLogger }, logger: silentLogger, blockMs: 200 });
    await worker.start();
    try {
      const dm = dmConversation(fake, url, 'D0REDIS');
      // The person answers once the worker has finished the turn (its wake-up acknowledged): a
      // message landing between the worker's release and that acknowledgement waits out the
      // claim idle time (3 s), which is the queue's business, not this test's.
      const say = async (text: string) => {
        const reply = await dm(text);
        await queueIdle(redis, prefix, `slack:${TEAM}:D0REDIS`);
        return reply;
      };
      for (const line of MID_STAGE) await say(line);
      const mid = await say('summary');
      expect(mid).toContain('you want to feel calm and present');
      expect(mid).toContain('Still open:');
      expect((await say('breathe')).startsWith(RELAXATION)).toBe(true);
      for (const line of REST) await say(line);
      const end = await say('summary');
      for (const s of FOUND_AT_END) expect(end).toContain(s);
      expect(end).toContain(END_OF_STAGE);
      // The session lives in Redis: its history holds the commands and their answers.
      // (recorded once delivered, so possibly a moment after the person saw it)
      const said = [...MID_STAGE, 'summary', 'breathe', ...REST, 'summary'];
      const history = await until(
        async () => {
          const h = await store.history(`slack:${TEAM}:D0REDIS`, 100);
          return h.length >= said.length * 2 && h;
        },
        { timeoutMs: 5000, what: 'the last turn to be recorded in Redis' },
      );
      expect(history.filter((h) => h.role === 'user').map((h) => h.text)).toEqual(said);
      expect(history.at(-1)!.text).toBe(end);
      expect(worker.stats.turns).toBe(said.length);
      expect(worker.stats.reclaimed).toBe(0);
    } finally {
      await worker.stop(1000);
      redis.disconnect();
      reader.disconnect();
      await cleanup(prefix);
    }
  });
});
