/** The in-process queue (one instance without Redis): same order and bursts as the Redis queue. */
import { describe, expect, it } from 'vitest';
import { MemorySessionStore, MemoryTurnQueue, silentLogger, type QueuedMessage } from '../../src/index.js';
import { makeEngine } from '../helpers.js';
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
    await expect(queue.enqueue(message('test:m3', 'hello'))).rejects.toThrow(/stopping/);
  });
});
