/**
 * Every way a turn can end, as the one TurnResult the runner switches on: what the person
 * was sent, and what the store holds afterwards.
 */
import { describe, expect, it } from 'vitest';
import { MemorySessionStore, StaleSessionError, type OpenSession, type SessionCommit } from '../../src/index.js';
import { chat, makeEngine } from '../helpers.js';

/** Commits fail as stale `stale` times (another instance wrote first), then work. */
class RacedStore extends MemorySessionStore {
  stale = 0;
  override async commit<S>(s: OpenSession<S>, c: SessionCommit<S>): Promise<void> {
    if (this.stale > 0) {
      this.stale--;
      throw new StaleSessionError(s.sessionId);
    }
    return super.commit(s, c);
  }
}

describe('turn outcomes', () => {
  it('answered: recorded, and says whether the reply was posted within the turn', async () => {
    const { engine, store } = makeEngine();
    const posted: string[] = [];
    const r = await engine.handleTurn({ sessionId: 'test:o1', userId: 'u', platform: 'test', text: 'hello' }, { deliver: async (t) => void posted.push(t) });
    expect(r).toMatchObject({ outcome: 'answered', delivered: true, kind: 'reply' });
    expect(posted).toEqual([r.reply]);
    const without = await chat(engine, 'test:o1', 'u', 'test')('I want to feel calm');
    expect(without).toMatchObject({ outcome: 'answered', delivered: false });
    expect((await store.history('test:o1')).filter((e) => e.role === 'bot')).toHaveLength(2);
  });

  it('a stale version before anything was posted is decided again and answered once', async () => {
    const store = new RacedStore();
    const { engine } = makeEngine({ store });
    store.stale = 2;
    const r = await chat(engine, 'test:o2')('hello');
    expect(r.outcome).toBe('answered');
    expect((await store.history('test:o2')).filter((e) => e.role === 'bot')).toHaveLength(1);
  });

  it('record_failed: a reply posted but never recorded is not redone (that would answer twice)', async () => {
    const store = new RacedStore();
    const { engine } = makeEngine({ store });
    store.stale = 1; // stale is final after delivery: someone else wrote
    const posted: string[] = [];
    const r = await engine.handleTurn({ sessionId: 'test:o3', userId: 'u', platform: 'test', text: 'hello' }, { deliver: async (t) => void posted.push(t) });
    expect(r).toEqual({ outcome: 'record_failed', sessionId: 'test:o3', kind: 'unavailable', reply: null });
    expect(posted).toHaveLength(1);
    expect(await store.history('test:o3')).toEqual([]);
  });

  it('redo (handed_over): a turn handed to another worker posts and records nothing', async () => {
    const { engine, store } = makeEngine();
    const handover = new AbortController();
    handover.abort();
    const posted: string[] = [];
    const r = await engine.handleTurn(
      { sessionId: 'test:o4', userId: 'u', platform: 'test', text: 'hello' },
      { deliver: async (t) => void posted.push(t), signal: handover.signal },
    );
    expect(r).toEqual({ outcome: 'redo', sessionId: 'test:o4', why: 'handed_over', kind: 'ignored', reply: null });
    expect(posted).toEqual([]);
    expect(await store.history('test:o4')).toEqual([]);
    // The lock was released: the new owner can answer at once.
    expect((await chat(engine, 'test:o4', 'u', 'test')('hello')).outcome).toBe('answered');
  });

  it('redo (not_delivered): the reply comes back, so a crisis response can be tried again at once', async () => {
    const { engine, store } = makeEngine();
    const r = await engine.handleTurn({ sessionId: 'test:o5', userId: 'u', platform: 'test', text: 'I want to kill myself' }, { deliver: async () => false });
    expect(r).toMatchObject({ outcome: 'redo', why: 'not_delivered', kind: 'crisis' });
    expect(r.reply).toContain(engine.crisisResponse('I want to kill myself')!);
    expect(await store.history('test:o5')).toEqual([]);
  });

  it('ignored: a blank message, and queued messages answered already', async () => {
    const { engine } = makeEngine();
    expect(await chat(engine, 'test:o6')(' \u200b\n ')).toMatchObject({ outcome: 'ignored', why: 'blank' });
    const part = { sessionId: 'test:o6', userId: 'u', platform: 'test', text: '', parts: [{ seq: 3, text: 'hello' }] };
    expect((await engine.handleTurn(part)).outcome).toBe('answered');
    expect(await engine.handleTurn(part)).toMatchObject({ outcome: 'ignored', why: 'answered_already' });
  });

  it('queued parts: the last turn\'s own are skipped on a redelivery; a part with a lower sequence that it did not answer is answered, not dropped', async () => {
    const { engine, store } = makeEngine();
    const turn = (parts: Array<{ seq: number; text: string; order?: string }>) => engine.handleTurn({ sessionId: 'test:o7', userId: 'u', platform: 'test', text: '', parts });
    const at = (n: number) => String(n).padStart(20, '0');
    // In the person's order, the inbox held seq 7 (typed first, reached the queue last) before seq 5.
    expect((await turn([{ seq: 7, text: 'hello', order: at(1) }, { seq: 5, text: 'I want to feel calm', order: at(2) }])).outcome).toBe('answered');
    expect(await turn([{ seq: 7, text: 'hello', order: at(1) }, { seq: 5, text: 'I want to feel calm', order: at(2) }])).toMatchObject({ outcome: 'ignored', why: 'answered_already' });
    // Seq 6 is below the highest answered (7) but was never answered: typed before seq 5, arrived after.
    expect((await turn([{ seq: 6, text: 'and my chest is tight', order: at(1) }])).outcome).toBe('answered');
    const users = (await store.history('test:o7')).filter((e) => e.role === 'user');
    expect(users.map((e) => [e.text, e.late ?? false])).toEqual([
      ['hello', false],
      ['I want to feel calm', false],
      ['and my chest is tight', true],
    ]);
  });
});
