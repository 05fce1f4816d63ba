/**
 * The "I'm on it" button on a safety alert, through the real Bolt App (HTTP and Socket Mode)
 * and its edge, against the fake Slack, with the real alert queues (memory, and Redis under a
 * unique prefix).
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ALREADY_GONE, TRY_AGAIN } from '../../adapters/slack/alert-actions.js';
import { createSlackApp, type SlackRunner } from '../../adapters/slack/slack-app.js';
import { MemoryAlertQueue, MemoryMarks, RedisAlertQueue, isEpisodeId, silentLogger, type AlertQueue, type SafetyAlert } from '../../src/index.js';
import { FakeSlack, blockAction, sendInteractive } from '../fakes/slack.js';
import { makeEngine } from '../helpers.js';
import { mulberry32 } from '../prng.js';
import { cleanup, client, uniquePrefix } from '../redis/helpers.js';
import { pause, until } from '../wait.js';

const SECRET = 'alert-signing-secret';
const EP = 'ep_00112233445566ff';
const CHANNEL = 'C0ALERTS';
/** After the last answer it can observe, how long a test waits for an ephemeral or a call that must not come. */
const QUIET_MS = 250;

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});
const prefixes: string[] = [];
const redisClients: Array<ReturnType<typeof client>> = [];
afterAll(async () => {
  await Promise.all(prefixes.map((p) => cleanup(p)));
  for (const c of redisClients) c.disconnect();
});

const queues: Record<string, () => AlertQueue> = {
  memory: () => new MemoryAlertQueue(),
  redis: () => {
    const prefix = uniquePrefix();
    prefixes.push(prefix);
    const c = client();
    redisClients.push(c);
    return new RedisAlertQueue({ client: c, prefix });
  },
};

function alert(episode = EP): SafetyAlert {
  return { episode, kind: 'crisis', platform: 'slack', sessionId: 'slack:T0TEAM:D0DM', userId: 'U0PERSON', at: new Date().toISOString() };
}

/** The bot with `alerts` set to the queue (through a recorder of every acknowledge call). */
async function startBot(queue: AlertQueue | { acknowledge: AlertQueue['acknowledge'] } | undefined, opts: { socket?: boolean } = {}) {
  const fake = new FakeSlack();
  const apiUrl = await fake.start();
  const acks: Array<{ episode: string; by: string }> = [];
  const rejected: string[] = [];
  const alerts = queue
    ? {
        acknowledge: (episode: string, by: string, now?: Date) => {
          acks.push({ episode, by });
          return queue.acknowledge(episode, by, now);
        },
      }
    : undefined;
  const settings = opts.socket ? { appToken: 'xapp-test' } : { signingSecret: SECRET };
  const runner: SlackRunner = createSlackApp(
    { botToken: 'xoxb-test', apiUrl, port: 0, allowChannels: true, ...settings },
    { engine: makeEngine().engine, marks: new MemoryMarks(), logger: silentLogger, onEdgeReject: (r) => rejected.push(r), ...(alerts ? { alerts } : {}) },
  );
  const port = await runner.start();
  stops.push(async () => {
    await runner.stop();
    await fake.stop();
  });
  const url = `http://127.0.0.1:${port}/slack/events`;
  const press = (user: string, value = EP) => sendInteractive(url, SECRET, blockAction({ user, channel: CHANNEL, value }));
  return { fake, url, acks, rejected, press };
}

/** What each ephemeral said, to whom and where (Bolt's client adds team_id). */
const ephemerals = (fake: FakeSlack) => fake.of('chat.postEphemeral').map(({ args }) => ({ channel: args.channel, user: args.user, text: args.text }));

describe('the "I\'m on it" button', () => {
  for (const [name, make] of Object.entries(queues)) {
    it(`(${name} queue) the first press takes the alert; a second responder is told, only to them, who took it`, async () => {
      const queue = make();
      expect(await queue.raise(alert(), { slackChannel: CHANNEL, includeText: false, team: 'the care team' })).toBe('queued');
      const { fake, press, acks } = await startBot(queue);
      expect((await press('U0FIRST')).status).toBe(200);
      const taken = await until(async () => (await queue.get(EP))?.ack, { what: 'the acknowledgement' });
      expect(taken.by).toBe('slack:U0FIRST');
      expect((await press('U0SECOND')).status).toBe(200);
      await fake.waitFor('chat.postEphemeral');
      await pause(QUIET_MS);
      const time = taken.at.replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
      expect(ephemerals(fake)).toEqual([{ channel: CHANNEL, user: 'U0SECOND', text: `Already taken by <@U0FIRST> at ${time}.` }]);
      expect((await queue.get(EP))?.ack?.by).toBe('slack:U0FIRST');
      expect(acks).toEqual([{ episode: EP, by: 'slack:U0FIRST' }, { episode: EP, by: 'slack:U0SECOND' }]);
      expect(fake.of('chat.postMessage')).toEqual([]); // nothing in the channel: the worker's ack job edits the alert
    });
  }

  it('taken from the CLI: a later press names the operator', async () => {
    const queue = new MemoryAlertQueue();
    await queue.raise(alert(), { slackChannel: CHANNEL, includeText: false, team: 'x' });
    await queue.acknowledge(EP, 'cli:sam', new Date('2026-12-03T07:31:05.000Z'));
    const { fake, press } = await startBot(queue);
    await press('U0SECOND');
    const [e] = await fake.waitFor('chat.postEphemeral');
    expect(e!.args.text).toBe('Already taken by cli:sam at 2026-12-03 07:31:05 UTC.');
  });

  it('an episode not on record, and a queue that cannot be reached, are told to the presser', async () => {
    const { fake, press } = await startBot(new MemoryAlertQueue());
    await press('U0FIRST');
    const [gone] = await fake.waitFor('chat.postEphemeral');
    expect(gone!.args).toMatchObject({ user: 'U0FIRST', channel: CHANNEL, text: ALREADY_GONE });

    const down = await startBot({ acknowledge: () => Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })) });
    expect((await down.press('U0FIRST')).status).toBe(200);
    const [again] = await down.fake.waitFor('chat.postEphemeral');
    expect(again!.args).toMatchObject({ user: 'U0FIRST', text: TRY_AGAIN });
  });

  it('a forged signature is refused (401); malformed and foreign payloads are answered 200 and never reach acknowledge', async () => {
    const queue = new MemoryAlertQueue();
    await queue.raise(alert(), { slackChannel: CHANNEL, includeText: false, team: 'x' });
    const { fake, url, acks, rejected, press } = await startBot(queue);
    const good = blockAction({ user: 'U0FIRST', channel: CHANNEL, value: EP });
    expect((await sendInteractive(url, SECRET, good, { forge: true })).status).toBe(401);
    const action = (good.actions as Array<Record<string, unknown>>)[0]!;
    const malformed: unknown[] = [
      { ...good, actions: [action, action] }, // two actions
      { ...good, actions: [{ ...action, value: 42 }] },
      { ...good, actions: [{ ...action, type: 'static_select' }] },
      { ...good, user: { id: 'not-a-user' } },
      { ...good, user: undefined },
      { ...good, channel: undefined },
      { ...good, channel: { id: null } },
      { ...good, team: { id: '../../x' } },
      { ...good, actions: [{ ...action, value: 'x'.repeat(5000) }] },
    ];
    for (const p of malformed) expect((await sendInteractive(url, SECRET, p)).status).toBe(200);
    expect(rejected.filter((r) => r === 'malformed')).toHaveLength(malformed.length);
    const foreign: unknown[] = [
      { ...good, actions: [{ ...action, action_id: 'other' }] },
      { ...good, type: 'view_submission' },
      { ...good, actions: null },
      null,
      [good],
    ];
    for (const p of foreign) expect((await sendInteractive(url, SECRET, p)).status).toBe(200);
    for (const raw of ['{not json', '', 'null']) expect((await sendInteractive(url, SECRET, raw, { raw: true })).status).toBe(200);
    // Well-formed, but a value that is not an episode id: refused by the handler before the queue.
    expect((await press('U0FIRST', 'ep_../../etc')).status).toBe(200);
    expect((await press('U0FIRST', `${EP} `)).status).toBe(200);
    await pause(QUIET_MS);
    expect(acks).toEqual([]);
    expect(ephemerals(fake)).toEqual([]);
    expect((await queue.get(EP))?.ack).toBeUndefined();
    await press('U0FIRST'); // and a real press still works
    await until(async () => (await queue.get(EP))?.ack, { what: 'the acknowledgement' });
  });

  it('a seeded fuzz of button payloads: no 5xx, and only a well-formed episode and user reach acknowledge', async () => {
    const { url, acks, rejected } = await startBot(new MemoryAlertQueue());
    const r = mulberry32(20261203);
    const good = blockAction({ user: 'U0FIRST', channel: CHANNEL, value: EP });
    const junk = [null, 42, '', 'x', 'ep_', EP.toUpperCase(), `${EP}\u0000`, [], {}, { id: 'U0X' }, 'U0FIRST', CHANNEL, '1700000000.1', true];
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
    for (let i = 0; i < 150; i++) {
      const p = structuredClone(good) as Record<string, unknown>;
      const a = (p.actions as Array<Record<string, unknown>>)[0]!;
      for (let k = 0; k < 1 + Math.floor(r() * 3); k++) {
        const target = r() < 0.5 ? a : pick([p, p.user, p.channel, p.team] as Array<Record<string, unknown>>);
        const key = pick([...Object.keys(target), 'id', 'value']);
        if (r() < 0.2) delete target[key];
        else target[key] = pick(junk);
      }
      const res = await sendInteractive(url, SECRET, p);
      expect(res.status, JSON.stringify(p).slice(0, 300)).toBeLessThan(500);
    }
    await pause(QUIET_MS);
    expect(rejected.length).toBeGreaterThan(50); // most mutants are dropped at the edge...
    expect(acks.length).toBeGreaterThan(0); // ...some stay well-formed (a field that does not matter changed)
    for (const a of acks) {
      expect(isEpisodeId(a.episode)).toBe(true);
      expect(a.by).toMatch(/^slack:[UWB][A-Z0-9]+$/);
    }
  });

  it('over Socket Mode: a press is acknowledged and takes the alert; a malformed one is acknowledged and dropped', async () => {
    const queue = new MemoryAlertQueue();
    await queue.raise(alert(), { slackChannel: CHANNEL, includeText: false, team: 'x' });
    const { fake, acks } = await startBot(queue, { socket: true });
    await fake.waitForAck(await fake.sendEnvelope('interactive', { ...blockAction({ user: 'U0FIRST', channel: CHANNEL, value: EP }), channel: null }));
    await fake.waitForAck(await fake.sendEnvelope('interactive', blockAction({ user: 'U0FIRST', channel: CHANNEL, value: EP })));
    await until(async () => (await queue.get(EP))?.ack, { what: 'the acknowledgement' });
    expect(acks).toEqual([{ episode: EP, by: 'slack:U0FIRST' }]);
    await fake.waitForAck(await fake.sendEnvelope('interactive', blockAction({ user: 'U0SECOND', channel: CHANNEL, value: EP })));
    const [e] = await fake.waitFor('chat.postEphemeral');
    expect(e!.args).toMatchObject({ user: 'U0SECOND', text: expect.stringContaining('Already taken by <@U0FIRST>') });
  });

  it('without alerts configured, a press is answered 200 and nothing happens', async () => {
    const { fake, press } = await startBot(undefined);
    expect((await press('U0FIRST')).status).toBe(200);
    await pause(QUIET_MS);
    expect(ephemerals(fake)).toEqual([]);
  });
});
