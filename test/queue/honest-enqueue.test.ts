/** What the person is told when a message cannot be queued: only what is true. */
import { describe, expect, it } from 'vitest';
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

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(check: () => boolean) {
  for (const deadline = Date.now() + 3000; !check(); await settle(10)) if (Date.now() > deadline) throw new Error('timed out');
}

describe('enqueueHonestly', () => {
  it('stored: nothing is said (the answer comes from a worker)', async () => {
    const r = await run(queueThat(async () => 'queued'), 'hello');
    expect(r).toEqual({ outcome: 'queued', told: [] });
  });

  it('certainly not stored: "send it again"; a risk statement gets the crisis response instead', async () => {
    const refuse = queueThat(async () => Promise.reject(new NotQueuedError()));
    const a = await run(refuse, 'hello');
    await until(() => a.told.length > 0);
    expect(a).toEqual({ outcome: 'not_queued', told: ['SEND AGAIN'] });
    const b = await run(refuse, 'I want to end my life');
    await until(() => b.told.length > 0);
    expect(b.told).toEqual([CRISIS]);
  });

  it('unknown (Redis never answered), or any other failure: a line true either way, never "send it again"', async () => {
    for (const err of [new QueueOutcomeUnknownError(), new Error('boom')]) {
      const r = await run(queueThat(async () => Promise.reject(err)), 'hello');
      await until(() => r.told.length > 0);
      expect(r).toEqual({ outcome: 'unknown', told: ['UNSURE'] });
    }
  });

  it('not settled within the acknowledgement window: resolves in time; a risk statement is answered at once, once', async () => {
    let fail!: (e: unknown) => void;
    const slow = queueThat(() => new Promise((_, reject) => (fail = reject)));
    const started = Date.now();
    const r = await run(slow, 'I want to end my life', 50);
    expect(r.outcome).toBe('pending');
    expect(Date.now() - started).toBeLessThan(1000);
    await until(() => r.told.length > 0);
    expect(r.told).toEqual([CRISIS]);
    fail(new NotQueuedError()); // settled later: not stored; the crisis lines are not repeated
    await until(() => r.told.length > 1);
    expect(r.told).toEqual([CRISIS, 'SEND AGAIN']);
  });

  it('settled later as stored: nothing more is said', async () => {
    let ok!: (v: EnqueueResult) => void;
    const r = await run(queueThat(() => new Promise((resolve) => (ok = resolve))), 'hello', 30);
    expect(r.outcome).toBe('pending');
    ok('queued');
    await settle(50);
    expect(r.told).toEqual([]);
  });
});
