/** What the person is told when a message cannot be queued: only what is true. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { NotQueuedError, QueueOutcomeUnknownError, enqueueHonestly, silentLogger, type EnqueueResult, type QueuedMessage, type TurnQueue } from '../../src/index.js';

const TEXTS = { unavailable: 'SEND AGAIN', unsure: 'UNSURE' };
const CRISIS = 'CRISIS LINES';
const m = (text: string): QueuedMessage => ({ id: 'x', sessionId: 's', userId: 'u', platform: 'test', text, replyTo: {}, receivedAt: Date.now() });

function queueThat(outcome: () => Promise<EnqueueResult>): TurnQueue {
  return { name: 'test', enqueue: outcome };
}

async function run(queue: TurnQueue, text: string, ackWithinMs = 1000) {
  const told: string[] = [];
  const outcome = await enqueueHonestly({ queue, tell: async (t) => void told.push(t), crisisResponse: (t) => (t.includes('end my life') ? CRISIS : null), texts: TEXTS, logger: silentLogger }, m(text), ackWithinMs);
  return { outcome, told };
}

// The acknowledgement window is a timer, and nothing here does I/O: fake timers run the window
// exactly, and `settled()` runs every timer and callback still due, so what has been told after
// it is all that will ever be told (no sleeping, no polling).
beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());
const settled = () => vi.runAllTimersAsync();

describe('enqueueHonestly', () => {
  it('stored: nothing is said (the answer comes from a worker)', async () => {
    const r = await run(queueThat(async () => 'queued'), 'hello');
    expect(r).toEqual({ outcome: 'queued', told: [] });
  });

  it('certainly not stored: "send it again"; a risk statement gets the crisis response instead', async () => {
    const refuse = queueThat(async () => Promise.reject(new NotQueuedError()));
    const a = await run(refuse, 'hello');
    await settled();
    expect(a).toEqual({ outcome: 'not_queued', told: ['SEND AGAIN'] });
    const b = await run(refuse, 'I want to end my life');
    await settled();
    expect(b.told).toEqual([CRISIS]);
  });

  it('unknown (Redis never answered), or any other failure: a line true either way, never "send it again"', async () => {
    for (const err of [new QueueOutcomeUnknownError(), new Error('boom')]) {
      const r = await run(queueThat(async () => Promise.reject(err)), 'hello');
      await settled();
      expect(r).toEqual({ outcome: 'unknown', told: ['UNSURE'] });
    }
  });

  it('not settled within the acknowledgement window: resolves in time; a risk statement is answered at once, once', async () => {
    let fail!: (e: unknown) => void;
    const slow = queueThat(() => new Promise((_, reject) => (fail = reject)));
    let answered = false;
    const running = run(slow, 'I want to end my life', 50).finally(() => (answered = true));
    await vi.advanceTimersByTimeAsync(49);
    expect(answered).toBe(false); // the window is not cut short
    await vi.advanceTimersByTimeAsync(1);
    expect(answered).toBe(true); // resolved when the window ends, the enqueue still unsettled
    const r = await running;
    expect(r.outcome).toBe('pending');
    await settled();
    expect(r.told).toEqual([CRISIS]);
    fail(new NotQueuedError()); // settled later: not stored; the crisis lines are not repeated
    await settled();
    expect(r.told).toEqual([CRISIS, 'SEND AGAIN']);
  });

  it('settled later as stored: nothing more is said', async () => {
    let ok!: (v: EnqueueResult) => void;
    const running = run(queueThat(() => new Promise((resolve) => (ok = resolve))), 'hello', 30);
    await vi.advanceTimersByTimeAsync(30);
    const r = await running;
    expect(r.outcome).toBe('pending');
    ok('queued');
    await settled();
    expect(r.told).toEqual([]);
  });
});
