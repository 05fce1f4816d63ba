/** The in-process queue (one instance without Redis): same order and bursts as the Redis queue. */
import { describe, expect, it } from 'vitest';
import { MemoryRateLimits, MemorySessionStore, MemoryTurnQueue, NotQueuedError, formatWait, silentLogger, type LimitDecision, type LimitSubject, type QueuedMessage } from '../../src/index.js';
import { makeEngine, repoConfig } from '../helpers.js';
import { until } from '../wait.js';
import { RecordingOutlet } from './recording-outlet.js';

let n = 0;
const message = (sessionId: string, text: string): QueuedMessage => ({ id: `m${++n}`, sessionId, userId: 'U1', platform: 'test', text, replyTo: {}, receivedAt: Date.now() });

describe('in-memory turn queue', () => {
  it('answers a burst that arrives during a turn together, in order, and drops duplicates', async () => {
    const { engine, store } = makeEngine();
    const outlet = new RecordingOutlet();
    const queue = new MemoryTurnQueue({ engine, outlets: { test: outlet }, logger: silentLogger });
    const first = message('test:m1', 'hello');
    expect(await queue.enqueue(first)).toBe('queued');
    expect(await queue.enqueue(first)).toBe('duplicate');
    for (let i = 1; i <= 4; i++) await queue.enqueue(message('test:m1', `more ${i}`));
    await outlet.waitForCount(1);
    await queue.stop(2000);
    const users = (await store.history('test:m1')).filter((h) => h.role === 'user').map((h) => h.text);
    expect(users).toEqual(['hello', 'more 1', 'more 2', 'more 3', 'more 4']);
    expect(outlet.replies.length).toBeLessThan(5);
  });

  it('a new queue over the same sessions (a restarted adapter) still answers them', async () => {
    const store = new MemorySessionStore();
    const { engine } = makeEngine({ store });
    for (const round of [1, 2]) {
      const outlet = new RecordingOutlet();
      const queue = new MemoryTurnQueue({ engine, outlets: { test: outlet }, logger: silentLogger });
      await queue.enqueue(message('test:m2', `round ${round}`));
      await outlet.waitForCount(1);
      await queue.stop(2000);
    }
    expect((await store.history('test:m2')).filter((h) => h.role === 'user')).toHaveLength(2);
  });

  it('refuses new messages once stopping (the adapter answers "try again")', async () => {
    const { engine } = makeEngine();
    const queue = new MemoryTurnQueue({ engine, outlets: { test: new RecordingOutlet() }, logger: silentLogger });
    await queue.stop(100);
    await expect(queue.enqueue(message('test:m3', 'hello'))).rejects.toBeInstanceOf(NotQueuedError); // not stored: "try again" is true
  });
});

describe('rate limits in the queue', () => {
  it('a limited person gets one notice; a risk statement and the commands are never limited', async () => {
    const config = repoConfig();
    const memory = new MemoryRateLimits({ config: { ...config.rateLimits, per_user: { points: 1, duration_s: 60 } } });
    // Each message ends in a turn closed through the outlet (a reply or the notice), or is dropped in silence.
    let decision: LimitDecision | undefined;
    let silent = 0;
    const limits = {
      admit: async (subject: LimitSubject) => (decision = await memory.admit(subject)),
      dropped: () => void (decision && !decision.allowed && !decision.notify && silent++),
    };
    const { engine } = makeEngine();
    const outlet = new RecordingOutlet();
    const queue = new MemoryTurnQueue({ engine, outlets: { test: outlet }, logger: silentLogger, limits, limitedReply: (ms) => `slow down, wait ${formatWait(ms)}` });
    const say = async (text: string) => {
      const before = outlet.replies.length;
      const [closed, dropped] = [outlet.closed, silent];
      await queue.enqueue(message('test:rl', text));
      await until(() => outlet.closed > closed || silent > dropped, { what: `"${text}" to be answered or dropped` });
      return outlet.replies.slice(before).map((r) => r.text);
    };
    expect(await say('hello')).toHaveLength(1); // the one allowed message
    const [notice] = await say('I want to feel calm');
    expect(notice).toMatch(/^slow down, wait about/);
    expect(await say('work is hectic')).toEqual([]); // one notice per window, then silence
    expect((await say('I want to kill myself'))[0]).toContain(config.safety.response);
    expect((await say('forget'))[0]).toContain(config.responses.commands.forget_confirm.slice(0, 30));
    await queue.stop(1000);
  });
});
