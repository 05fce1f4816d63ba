import { describe, expect, it } from 'vitest';
import {
  Engine,
  MemoryMarks,
  MemorySessionStore,
  StaleSessionError,
  StoreUnavailableError,
  type OpenSession,
  type Responder,
  type SessionCommit,
} from '../../src/index.js';
import { chat, makeEngine, repoConfig, repoRetriever } from '../helpers.js';
import { until } from '../wait.js';
import { answered } from '../turn-results.js';

const DISCLOSURE = repoConfig().responses.disclosure;

describe('engine: disclosure and commands', () => {
  it('the first reply of every session carries the disclosure, and only the first', async () => {
    const { engine } = makeEngine();
    const a = chat(engine, 'console:a');
    expect((await a('hello')).reply).toContain(DISCLOSURE);
    expect((await a('I want to feel calm')).reply).not.toContain(DISCLOSURE);
    expect((await chat(engine, 'console:b')('help')).reply).toContain(DISCLOSURE);
  });

  it('help lists the commands and crisis lines', async () => {
    const { engine } = makeEngine();
    const r = await chat(engine)('HELP');
    expect(r.kind).toBe('command');
    for (const s of ['status', 'reset', 'forget', '988']) expect(r.reply).toContain(s);
  });

  it('status says where the person is, in plain words', async () => {
    const { engine } = makeEngine();
    const say = chat(engine);
    await say('hi');
    await say('I want to feel calm');
    const r = await say('status');
    expect(r.reply).toContain('step 2 of 5');
    expect(r.reply).toContain('picturing the future you');
    expect(r.reply).toContain("you'd like to feel calm");
  });

  it('reset starts over and clears the history', async () => {
    const { engine, store } = makeEngine();
    const say = chat(engine);
    await say('hi');
    await say('I want to feel calm');
    const r = await say('/reset');
    expect(r).toMatchObject({ kind: 'command', substate: '1.1_goal' });
    const history = await store.history('console:test');
    expect(history.map((h) => h.text)).not.toContain('I want to feel calm');
    expect(answered(await say('I want to feel rested')).action).toBe('present_vision');
  });

  it('forget asks for confirmation, then erases every session of that person', async () => {
    const { engine, store } = makeEngine();
    const dm = chat(engine, 'console:one', 'pat');
    const other = chat(engine, 'console:two', 'pat');
    await dm('I want to feel calm');
    await other('hello');
    const ask = await dm('forget');
    expect(ask.reply).toContain("Reply 'yes'");
    expect((await store.exportUser('console:pat')).sessions).toHaveLength(2);
    const done = await dm('yes');
    expect(done.reply).toContain('erased');
    expect((await store.exportUser('console:pat')).sessions).toHaveLength(0);
    expect(await store.history('console:two')).toEqual([]);
    expect((await dm('hello')).reply).toContain(DISCLOSURE); // a fresh session
  });

  it('forget followed by anything else cancels and erases nothing', async () => {
    const { engine, store } = makeEngine();
    const say = chat(engine);
    await say('I want to feel calm');
    await say('forget');
    expect((await say('no, keep it')).reply).toContain('nothing has been erased');
    expect((await store.history('console:test')).length).toBeGreaterThan(0);
  });
});

describe('engine: the safety state follows the person', () => {
  it('a new session of someone in the safety state starts in it; release anywhere clears it for new sessions', async () => {
    const engine = new Engine({ config: repoConfig(), store: new MemorySessionStore(), retriever: repoRetriever(), marks: new MemoryMarks() });
    await chat(engine, 'slack:T:D1', 'sam', 'slack')('I want to end my life');
    const thread = chat(engine, 'slack:T:D1:111.1', 'sam', 'slack'); // a thread inside the DM: a new session
    const r = await thread('I want to feel calm');
    expect(r.kind).toBe('safety'); // not the normal flow
    await thread("I'm safe");
    expect(answered(await thread('I have support, my partner is here')).action).toBe('safety:released');
    expect((await chat(engine, 'slack:T:D1:222.2', 'sam', 'slack')('I want to feel calm')).kind).toBe('reply');
    expect((await chat(engine, 'slack:T:D1:333.3', 'other', 'slack')('I want to feel calm')).kind).toBe('reply'); // other people unaffected
  });
});

describe('engine: forget in shared conversations', () => {
  it('only the person who asked can confirm; someone else\'s "yes" erases nothing and is answered as usual', async () => {
    const { engine, store } = makeEngine();
    const alice = chat(engine, 'slack:T1:C1:111.222', 'alice', 'slack');
    const bob = chat(engine, 'slack:T1:C1:111.222', 'bob', 'slack');
    await alice('I want to feel calm');
    await alice('forget');
    const r = await bob('yes');
    expect(answered(r).action).toBe('ask_permission'); // an ordinary answer to the vision question
    expect(r.reply).not.toContain('erased');
    expect((await store.exportUser('slack:alice')).sessions).toHaveLength(1);
    expect((await alice('yes')).reply).not.toContain('Everything stored about you has been erased'); // the request lapsed
  });

  it('in a channel thread two people share, forget + yes erases the asker\'s part only; the last one to leave takes the session', async () => {
    const { engine, store } = makeEngine();
    const thread = 'slack:T1:C1:999.000';
    const alice = chat(engine, thread, 'alice', 'slack');
    const bob = chat(engine, thread, 'bob', 'slack');
    await alice('I want to feel calm');
    await bob('I want to feel rested');
    await chat(engine, 'slack:T1:D1', 'alice', 'slack')('hello'); // her DM: hers alone
    await alice('forget');
    expect((await alice('yes')).reply).toContain('erased');

    const left = await store.history(thread);
    expect(left.filter((h) => h.role === 'user').map((h) => h.text)).toEqual(['I want to feel rested']);
    expect(left.every((h) => (h.by ?? h.to) === 'slack:bob')).toBe(true); // his words and the replies to him
    expect(await store.history('slack:T1:D1')).toEqual([]);
    expect((await store.exportUser('slack:alice')).sessions).toEqual([]);
    expect((await store.exportUser('slack:bob')).sessions.map((s) => s.sessionId)).toEqual([thread]);

    expect((await bob('I want to feel rested too')).kind).toBe('reply'); // the thread goes on for him
    await bob('forget');
    await bob('yes');
    expect(await store.history(thread)).toEqual([]);
    expect((await store.exportUser('slack:bob')).sessions).toEqual([]);
    const gone = await store.open(thread);
    expect(gone.record).toBeNull();
    await store.release(gone);
  });

  it('after one person erases their part of a shared thread, nothing they said comes back to the other (status, replies)', async () => {
    const { engine } = makeEngine();
    const thread = 'slack:T1:C1:555.000';
    const alice = chat(engine, thread, 'alice', 'slack');
    const bob = chat(engine, thread, 'bob', 'slack');
    await alice('I want to feel Zanzibarish');
    expect((await bob('status')).reply?.toLowerCase()).toContain('zanzibarish'); // captured as the thread's wished-for feeling
    await alice('forget');
    await alice('yes');
    for (const text of ['status', 'yes', 'hello', 'status']) expect((await bob(text)).reply?.toLowerCase() ?? '').not.toContain('zanzibarish');
  });

  it('after erasure in a shared thread the request is closed: the asker\'s next message is answered as usual', async () => {
    const { engine, store } = makeEngine();
    const thread = 'slack:T1:C1:777.000';
    const alice = chat(engine, thread, 'alice', 'slack');
    await alice('I want to feel calm');
    await chat(engine, thread, 'bob', 'slack')('hello');
    await alice('forget');
    await alice('yes');
    const next = await alice('yes');
    expect(next.reply).not.toContain('erased'); // neither a second erasure nor "nothing has been erased"
    expect((await store.exportUser('slack:alice')).sessions[0]!.history.map((h) => h.text)).toEqual(['yes', next.reply]);
  });

  it('a running turn in another session of the same person is erased, never re-created half-way', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let held = false;
    const slow: Responder = {
      name: 'slow',
      respond: async (input) => {
        if (input.text.includes('slowly')) {
          held = true;
          await gate;
        }
        return { text: 'ok', source: 'test' };
      },
    };
    /** Sessions opened (locked), in order: the erasure opens each of the person's sessions. */
    const opened: string[] = [];
    const store = new (class extends MemorySessionStore {
      override open<S>(sessionId: string): Promise<OpenSession<S>> {
        opened.push(sessionId);
        return super.open<S>(sessionId);
      }
    })();
    const engine = new Engine({ config: repoConfig(), store, retriever: repoRetriever(), responder: slow });
    await chat(engine, 'console:b', 'pat')('hello');
    const running = chat(engine, 'console:b', 'pat')('I am typing slowly');
    await until(() => held, { what: 'the turn in console:b to be held in the responder' });
    const a = chat(engine, 'console:a', 'pat');
    await a('hello');
    await a('forget');
    const before = opened.length;
    const confirming = a('yes');
    // The erasure reaches console:b, whose lock the running turn holds.
    await until(() => opened.slice(before).includes('console:b'), { what: 'the erasure to wait for console:b' });
    release();
    await Promise.all([running, confirming]);
    expect((await store.exportUser('console:pat')).sessions).toEqual([]);
    expect(await store.history('console:b')).toEqual([]);
  });
});

describe('engine: input limits', () => {
  it('ignores empty and whitespace-only input without storing anything', async () => {
    const { engine, store } = makeEngine();
    for (const t of ['', '   ', '\n\t ', '\u0000\u200b']) expect((await chat(engine)(t)).kind).toBe('ignored');
    expect(await store.history('console:test')).toEqual([]);
  });

  it('an over-long message gets a polite reply, is not processed and not stored', async () => {
    const { engine, store } = makeEngine({ maxMessageChars: 200 });
    const say = chat(engine);
    await say('hello');
    const r = await say(`I want to feel calm ${'and more '.repeat(40)}`);
    expect(r).toMatchObject({ kind: 'too_long', substate: '1.1_goal' });
    expect(r.reply).toContain('200 characters');
    expect((await store.history('console:test')).map((h) => h.text).join(' ')).not.toContain('and more');
  });

  it('still answers a crisis statement inside an over-long message', async () => {
    const { engine } = makeEngine({ maxMessageChars: 200 });
    const r = await chat(engine)(`${'so much going on today. '.repeat(20)} I want to kill myself`);
    expect(r.kind).toBe('crisis');
  });

  it('strips control and zero-width characters before anything reads the text', async () => {
    const { engine } = makeEngine();
    expect((await chat(engine, 'console:x')('I want to kill\u200b myself')).kind).toBe('crisis');
    expect(answered(await chat(engine, 'console:y')('I want to\u0007 feel calm')).action).toBe('present_vision');
    expect((await chat(engine, 'console:z')('I want to kill my\u00adself')).kind).toBe('crisis'); // soft hyphen
  });
});

describe('engine: replies', () => {
  it('never sends the same line twice in a row', async () => {
    const { engine } = makeEngine();
    const say = chat(engine);
    const replies: string[] = [];
    for (const t of ['hi', 'I want to feel calm', 'yes', 'yes', 'yes', 'my boss', 'chest', 'tight', 'now', 'when I wake up', 'ready', 'done', 'lighter']) await say(t);
    for (let i = 0; i < 8; i++) replies.push((await say('ok thanks')).reply!);
    for (let i = 1; i < replies.length; i++) expect(replies[i]).not.toBe(replies[i - 1]);
  });

  it('is deterministic for a given session', async () => {
    const run = async () => {
      const { engine } = makeEngine();
      const say = chat(engine, 'console:same');
      const out: string[] = [];
      for (const t of ['hello', 'work is hectic', 'I want to feel calm', 'hmm', 'yes']) out.push((await say(t)).reply!);
      return out;
    };
    expect(await run()).toEqual(await run());
  });

  it('falls back to the offline line when the responder fails', async () => {
    const failing: Responder = { name: 'failing', respond: async () => Promise.reject(Object.assign(new Error('boom'), { code: 'ETIMEDOUT' })) };
    const engine = new Engine({ config: repoConfig(), store: new MemorySessionStore(), retriever: repoRetriever(), responder: failing });
    const r = await chat(engine)('hello');
    expect(r.kind).toBe('reply');
    expect(repoConfig().responses.actions.ask_goal!.some((l) => r.reply!.includes(l))).toBe(true);
  });

  it('a retrieval failure costs the examples, not the reply', async () => {
    const broken = { name: 'broken', retrieve: async () => Promise.reject(Object.assign(new Error('down'), { code: 'ECONNRESET' })) };
    const engine = new Engine({ config: repoConfig(), store: new MemorySessionStore(), retriever: broken });
    const r = await chat(engine)("I'm crying");
    expect(r).toMatchObject({ kind: 'reply', action: 'support_crying' });
  });

  it('counts crisis referrals without keeping any message text in the counters', async () => {
    const { engine, counters } = makeEngine();
    await chat(engine)('I want to end my life');
    expect(counters.crisisReferrals).toBe(1);
    expect(JSON.stringify([...counters.byKind])).not.toContain('end my life');
  });
});

/** A store that fails in chosen ways, for fault tests. */
class FlakyStore extends MemorySessionStore {
  failOpen = false;
  staleCommits = 0;
  override async open<S>(id: string): Promise<OpenSession<S>> {
    if (this.failOpen) throw new StoreUnavailableError('connection refused');
    return super.open<S>(id);
  }
  override async commit<S>(s: OpenSession<S>, c: SessionCommit<S>): Promise<void> {
    if (this.staleCommits > 0) {
      this.staleCommits--;
      await this.release(s);
      throw new StaleSessionError(s.sessionId);
    }
    return super.commit(s, c);
  }
}

describe('engine: store faults', () => {
  it('an unreachable store gives an honest "try again shortly", not a crash', async () => {
    const store = new FlakyStore();
    const { engine } = makeEngine({ store });
    store.failOpen = true;
    const r = await chat(engine)('hello');
    expect(r.kind).toBe('unavailable');
    expect(r.reply).toBe(repoConfig().responses.system.unavailable);
  });

  it('a crisis statement gets the crisis response even while the store is down', async () => {
    const store = new FlakyStore();
    const { engine } = makeEngine({ store });
    store.failOpen = true;
    const r = await chat(engine)('I want to kill myself');
    expect(r.kind).toBe('crisis');
    expect(r.reply).toBe(repoConfig().safety.response);
  });

  it('retries a turn whose commit found the session changed, recording it once', async () => {
    const store = new FlakyStore();
    const { engine } = makeEngine({ store });
    store.staleCommits = 2;
    const r = await chat(engine)('I want to feel calm');
    expect(answered(r).action).toBe('present_vision');
    expect((await store.history('console:test')).filter((h) => h.role === 'user')).toHaveLength(1);
  });

  it('runs one session’s turns one at a time: parallel messages all land, in order', async () => {
    const { engine, store } = makeEngine();
    const say = chat(engine);
    const texts = Array.from({ length: 20 }, (_, i) => `message number ${i}`);
    await Promise.all(texts.map((t) => say(t)));
    const history = await store.history('console:test');
    expect(history).toHaveLength(40);
    expect(history.filter((h) => h.role === 'user').map((h) => h.text)).toEqual(texts);
    history.forEach((h, i) => expect(h.role).toBe(i % 2 === 0 ? 'user' : 'bot'));
  });

  it('moves a session whose substate left the config to the nearest one that exists, without crashing', async () => {
    const store = new MemorySessionStore();
    const { engine } = makeEngine({ store });
    const say = chat(engine);
    await say('I want to feel calm'); // now in 1.2_vision
    const config = structuredClone(repoConfig());
    const stage = config.navigation.stages.stage_1!.substates;
    delete stage['1.2_vision'];
    stage['1.1_goal']!.next = '1.3_psychoeducation';
    const { engine: newer } = makeEngine({ config, store });
    const r = await chat(newer)('hmm');
    expect(r.kind).toBe('reply');
    // Goal done, vision gone: the step after the goal in the new config, not back to the start.
    expect(answered(r).substate).toBe('1.3_psychoeducation');
    const state = (await store.open('console:test')).record!.state as { configVersion: string };
    expect(state.configVersion).toBe(config.navigation.version);
  });
});

describe('engine: bursts from the queue (parts)', () => {
  const SAFETY = repoConfig().safety.response;
  const turn = (engine: Engine, sessionId: string, texts: string[], first = 1) =>
    engine.handleTurn({ sessionId, userId: 'u', platform: 'test', text: '', parts: texts.map((text, i) => ({ seq: first + i, text })) });

  it('a risk statement anywhere in a burst gets the crisis response', async () => {
    const { engine } = makeEngine();
    const r = await turn(engine, 'test:b1', ['hello', 'I want to feel calm', 'honestly I want to kill myself']);
    expect(r.kind).toBe('crisis');
    expect(r.reply).toContain(SAFETY);
    // Messages stay apart: "die" + "laughing" in the next message is not "die laughing".
    const burst = ['I want to die', 'laughing at the cat was the only good bit today'];
    expect((await turn(engine, 'test:b1b', burst)).kind).toBe('crisis');
  });

  it('a combination spread over two messages of a burst is a risk statement too', async () => {
    const { engine } = makeEngine();
    const burst = ['I keep looking at my sleeping pills', 'how many would it take'];
    for (const text of burst) expect(engine.crisisResponse(text), text).toBeNull(); // neither is one alone
    const r = await turn(engine, 'test:b3', burst);
    expect(r.kind).toBe('crisis');
  });

  it('each message of a burst is its own history entry; the reply follows them', async () => {
    const { engine, store } = makeEngine();
    await turn(engine, 'test:b4', ['hello', 'work is hectic', 'I want to feel calm']);
    const h = await store.history('test:b4');
    expect(h.map((e) => `${e.role}:${e.role === 'user' ? e.text : ''}`)).toEqual(['user:hello', 'user:work is hectic', 'user:I want to feel calm', 'bot:']);
  });

  it('the reply is delivered before the turn is recorded; a reply nobody got is not recorded (to be redone)', async () => {
    const { engine, store } = makeEngine();
    let historyAtDelivery = -1;
    const failed = await engine.handleTurn(
      { sessionId: 'test:b5', userId: 'u', platform: 'test', text: 'hello' },
      { deliver: async () => ((historyAtDelivery = (await store.history('test:b5')).length), false) },
    );
    expect(historyAtDelivery).toBe(0);
    expect(failed).toMatchObject({ outcome: 'redo', why: 'not_delivered' });
    expect(await store.history('test:b5')).toEqual([]);
    const ok = await engine.handleTurn({ sessionId: 'test:b5', userId: 'u', platform: 'test', text: 'hello' }, { deliver: async () => true });
    expect(answered(ok).delivered).toBe(true);
    expect((await store.history('test:b5')).map((e) => e.role)).toEqual(['user', 'bot']);
  });

  it('a burst of ordinary messages is not "too long" together; one long message is', async () => {
    const { engine } = makeEngine({ maxMessageChars: 300 });
    const parts = Array.from({ length: 5 }, (_, i) => ({ seq: i + 1, text: `${'I notice my shoulders and my breathing. '.repeat(6)} ${i}` }));
    expect(parts.every((p) => p.text.length < 300)).toBe(true);
    expect((await engine.handleTurn({ sessionId: 'test:b6', userId: 'u', platform: 'test', text: '', parts })).kind).not.toBe('too_long');
    const long = [{ seq: 1, text: 'x'.repeat(301) }];
    expect((await engine.handleTurn({ sessionId: 'test:b7', userId: 'u', platform: 'test', text: '', parts: long })).kind).toBe('too_long');
  });
});
