/**
 * The engine's side of safety alerts, on the real config and crisis check: which turns raise
 * an alert (one per stay in the safety state; `human`), what the person is told (only what is
 * true), and that every try at one turn raises the same episode.
 */
import { describe, expect, it } from 'vitest';
import { Engine, MemoryAlertQueue, MemoryMarks, MemorySessionStore, type AlertTarget, type TurnInput } from '../../src/index.js';
import { repoConfig, repoRetriever } from '../helpers.js';

const config = repoConfig();
const TARGET: AlertTarget = { slackChannel: 'C0ALERTS', includeText: false, team: 'the Acme care team' };
const TOLD = "I've let the Acme care team know, so someone can reach out to you.";

function setup(target: AlertTarget | null = TARGET, marks = new MemoryMarks()) {
  const queue = new MemoryAlertQueue();
  const raised: string[] = [];
  const store = new MemorySessionStore();
  const engine = new Engine({
    config,
    store,
    retriever: repoRetriever(),
    marks,
    alerts: { queue, target: () => target, onRaised: (o) => raised.push(o) },
  });
  let n = 0;
  const say = (text: string, over: Partial<TurnInput> = {}) =>
    engine.handleTurn({ sessionId: 'slack:T1:D1', userId: 'U1', platform: 'slack', tenant: 'T1', text, origin: { replyTo: { channel: 'D1' }, messageId: `D1:${++n}` }, ...over });
  return { engine, queue, raised, say, store };
}

describe('safety alerts in the turn', () => {
  it('a crisis statement raises one alert, says so before the closing question, and carries no text', async () => {
    const { queue, say } = setup();
    await say('hello');
    const r = await say('I want to kill myself');
    expect(r.kind).toBe('crisis');
    expect(r.reply).toContain(TOLD);
    expect(r.reply!.trim().endsWith('are you safe right now?')).toBe(true);
    const [alert] = await queue.recent(10);
    expect(alert!.alert).toMatchObject({ kind: 'crisis', platform: 'slack', sessionId: 'slack:T1:D1', userId: 'U1', origin: { messageId: 'D1:2' } });
    expect(alert!.alert.text).toBeUndefined();
    expect(await queue.pending()).toBe(1);
  });

  it('a second risk statement in the same stay raises nothing; after the release a new crisis alerts again', async () => {
    const { queue, say } = setup();
    await say('I want to kill myself');
    const again = await say('I really want to end my life');
    expect(again.kind).toBe('crisis');
    expect(again.reply).toContain(TOLD); // still true: someone was told about this stay
    expect(await queue.recent(10)).toHaveLength(1);
    await say("I'm safe");
    const released = await say('I am safe now, my partner is here');
    expect(released.kind).toBe('safety');
    await say('I want to kill myself');
    const all = await queue.recent(10);
    expect(all).toHaveLength(2);
    expect(new Set(all.map((a) => a.alert.episode)).size).toBe(2);
  });

  it('a yes to the check-in raises an alert of kind confirmed', async () => {
    const { queue, say } = setup();
    const check = await say("I don't see the point of anything anymore");
    expect(check.kind).toBe('check_in');
    expect(await queue.recent(10)).toHaveLength(0); // a possible risk alone alerts no one
    await say('yes');
    expect((await queue.recent(10))[0]!.alert.kind).toBe('confirmed');
  });

  it('redoing the same turn raises the same episode: a duplicate, not a second alert', async () => {
    const { queue, raised, say, store } = setup();
    let fail = true;
    const commit = store.commit.bind(store);
    store.commit = async (...args) => {
      if (fail) {
        fail = false;
        throw new Error('store went away');
      }
      return commit(...args);
    };
    const input = { origin: { replyTo: { channel: 'D1' }, messageId: 'D1:same' } };
    const first = await say('I want to kill myself', input);
    expect(first.outcome).toBe('redo');
    await say('I want to kill myself', input);
    expect(raised).toEqual(['queued', 'duplicate']);
    expect(await queue.recent(10)).toHaveLength(1);
  });

  it('a person already in the safety state in another session is in the same episode', async () => {
    const marks = new MemoryMarks();
    const { queue, say } = setup(TARGET, marks);
    await say('I want to kill myself');
    await say('hello', { sessionId: 'slack:T1:C9:1.0' });
    await say('I want to kill myself', { sessionId: 'slack:T2:C9:2.0' });
    expect(await queue.recent(10)).toHaveLength(1);
  });

  it('include_text puts the words in the alert', async () => {
    const { queue, say } = setup({ ...TARGET, includeText: true });
    await say('I want to kill myself');
    expect((await queue.recent(1))[0]!.alert.text).toBe('I want to kill myself');
  });

  it('without a destination nobody is alerted and the person is not told anyone was', async () => {
    const { queue, say } = setup(null);
    const r = await say('I want to kill myself');
    expect(r.kind).toBe('crisis');
    expect(r.reply!.endsWith(config.safety.response)).toBe(true); // after the first message's disclosure
    expect(r.reply).not.toMatch(/let .* know/);
    expect(await queue.recent(10)).toHaveLength(0);
    const h = await say('human');
    expect(h.reply).toContain(config.safety.alerts.human_unavailable);
  });

  it('`human` raises a requested alert without entering the safety state; one open request at a time', async () => {
    const { queue, say } = setup();
    await say('hello');
    const first = await say("I'd like to talk to a person");
    expect(first.kind).toBe('command');
    expect(first.reply).toContain('the Acme care team');
    expect(first.reply).toContain('get in touch');
    const again = await say('human');
    expect(again.reply).toContain('still open');
    const [record] = await queue.recent(10);
    expect(record!.alert.kind).toBe('requested');
    expect(await queue.recent(10)).toHaveLength(1);
    // The conversation goes on where it was, outside the safety state.
    const next = await say('I want to feel calm');
    expect(next.kind).toBe('reply');
    await queue.acknowledge(record!.alert.episode, 'slack:U9');
    expect((await say('human')).reply).not.toContain('still open');
    expect(await queue.recent(10)).toHaveLength(2);
  });

  it('a raise that fails fails the turn: the crisis response is still given, and nothing claims anyone was told', async () => {
    const { queue, say } = setup();
    queue.raise = async () => {
      throw new Error('redis down');
    };
    const r = await say('I want to kill myself');
    expect(r.outcome).toBe('redo');
    expect(r.reply).toBe(config.safety.response);
    expect(r.reply).not.toMatch(/let .* know/);
  });
});
