/**
 * The contract every SessionStore must meet. Each implementation's test file
 * calls `sessionStoreContract` with a factory; the Redis store runs the same.
 */
import { describe, expect, it } from 'vitest';
import { SessionBusyError, StaleSessionError, type SessionMeta, type SessionStore } from '../../src/index.js';
import type { Prefs } from '../../src/session/prefs.js';

const meta = (userId: string, turnCount = 1): SessionMeta => ({
  platform: 'console',
  userId,
  createdAt: '2026-01-01T00:00:00.000Z',
  lastActiveAt: '2026-01-01T00:00:00.000Z',
  turnCount,
  schemaVersion: 1,
});
const entry = (text: string, role: 'user' | 'bot' = 'user') => ({ role, text, at: '2026-01-01T00:00:00.000Z' });
/** One turn's entries as the engine records them: the person's message and the reply to them. */
const turnOf = (user: string, text: string) => [
  { ...entry(text), by: `console:${user}` },
  { ...entry(`re ${text}`, 'bot'), to: `console:${user}` },
];

export interface ContractOptions {
  /** Builds a fresh, empty store; `historyMax` must be honoured. */
  make: (opts: { historyMax: number; lockWaitMs: number }) => Promise<SessionStore> | SessionStore;
}

export function sessionStoreContract(name: string, { make }: ContractOptions): void {
  describe(`${name}: SessionStore contract`, () => {
    it('a new session opens empty; a commit makes it loadable with a version', async () => {
      const store = await make({ historyMax: 200, lockWaitMs: 2000 });
      const s = await store.open<{ n: number }>('console:a');
      expect(s.record).toBeNull();
      await store.commit(s, { state: { n: 1 }, meta: meta('a'), append: [entry('hi'), entry('hello', 'bot')] });
      const again = await store.open<{ n: number }>('console:a');
      expect(again.record).toMatchObject({ state: { n: 1 }, version: 1, meta: { userId: 'a' } });
      await store.release(again);
      expect((await store.history('console:a')).map((h) => h.text)).toEqual(['hi', 'hello']);
      await store.close();
    });

    it('caps history at historyMax, keeping the newest', async () => {
      const store = await make({ historyMax: 10, lockWaitMs: 2000 });
      for (let i = 0; i < 8; i++) {
        const s = await store.open('console:cap');
        await store.commit(s, { state: {}, meta: meta('cap'), append: [entry(`u${i}`), entry(`b${i}`, 'bot')] });
      }
      const h = await store.history('console:cap');
      expect(h).toHaveLength(10);
      expect(h[0]!.text).toBe('u3');
      expect(h.at(-1)!.text).toBe('b7');
      expect((await store.history('console:cap', 3)).map((x) => x.text)).toEqual(['b6', 'u7', 'b7']);
      await store.close();
    });

    it('one turn at a time per session: a second open waits for the first to finish', async () => {
      const store = await make({ historyMax: 200, lockWaitMs: 2000 });
      const first = await store.open('console:lock');
      let secondOpened = false;
      const second = store.open('console:lock').then((s) => {
        secondOpened = true;
        return s;
      });
      await new Promise((r) => setTimeout(r, 50));
      expect(secondOpened).toBe(false);
      await store.commit(first, { state: { step: 1 }, meta: meta('l'), append: [] });
      const s2 = await second;
      expect(s2.record?.state).toEqual({ step: 1 });
      await store.release(s2);
      await store.close();
    });

    it('gives up with SessionBusyError when the lock is not freed in time', async () => {
      const store = await make({ historyMax: 200, lockWaitMs: 100 });
      const held = await store.open('console:busy');
      await expect(store.open('console:busy')).rejects.toBeInstanceOf(SessionBusyError);
      await store.release(held);
      await store.close();
    });

    it('refuses a commit from a session opened before another writer committed', async () => {
      const store = await make({ historyMax: 200, lockWaitMs: 2000 });
      const a = await store.open('console:stale');
      await store.release(a); // lock lost (e.g. expired) but the turn goes on
      const b = await store.open('console:stale');
      await store.commit(b, { state: { by: 'b' }, meta: meta('s'), append: [] });
      await expect(store.commit(a, { state: { by: 'a' }, meta: meta('s'), append: [] })).rejects.toBeInstanceOf(StaleSessionError);
      const c = await store.open('console:stale');
      expect(c.record?.state).toEqual({ by: 'b' });
      await store.release(c);
      await store.close();
    });

    it('erases and exports every session of one user, and only theirs', async () => {
      const store = await make({ historyMax: 200, lockWaitMs: 2000 });
      for (const [id, user] of [['console:u1a', 'u1'], ['console:u1b', 'u1'], ['console:u2', 'u2']] as const) {
        const s = await store.open(id);
        await store.commit(s, { state: { id }, meta: meta(user), append: [entry(`text of ${id}`)] });
      }
      const exported = await store.exportUser('console:u1');
      expect(exported.sessions.map((s) => s.sessionId).sort()).toEqual(['console:u1a', 'console:u1b']);
      expect(exported.sessions[0]!.history[0]!.text).toMatch(/^text of/);
      expect((await store.eraseUser('console:u1')).sort()).toEqual(['console:u1a', 'console:u1b']);
      expect((await store.exportUser('console:u1')).sessions).toEqual([]);
      expect(await store.history('console:u1a')).toEqual([]);
      expect(await store.history('console:u2')).toHaveLength(1);
      await store.close();
    });

    it('a shared session: erasure takes one participant\'s part and keeps the other\'s, until the last one leaves', async () => {
      const store = await make({ historyMax: 200, lockWaitMs: 2000 });
      const thread = 'console:T1:C1:111.222';
      const turn = async (user: string, text: string) => {
        const s = await store.open(thread);
        await store.commit(s, { state: { last: user }, meta: meta(user), append: turnOf(user, text) });
      };
      await turn('a', 'a one');
      await turn('b', 'b one');
      await turn('a', 'a two');
      const solo = await store.open('console:a-alone');
      await store.commit(solo, { state: {}, meta: meta('a'), append: turnOf('a', 'a alone') });

      expect((await store.eraseUser('console:a')).sort()).toEqual(['console:T1:C1:111.222', 'console:a-alone']);
      expect((await store.history(thread)).map((h) => h.text)).toEqual(['b one', 're b one']);
      expect(await store.history('console:a-alone')).toEqual([]); // theirs alone: erased whole
      expect((await store.exportUser('console:a')).sessions).toEqual([]); // no longer in their index
      const left = await store.exportUser('console:b');
      expect(left.sessions.map((s) => s.sessionId)).toEqual([thread]); // still in the other's, and it exists
      expect(left.sessions[0]).toMatchObject({ meta: { userId: 'b' }, state: { last: 'a' } }); // the thread's state stays; meta no longer names a
      expect(left.sessions[0]!.shared).toBeUndefined(); // b is its only participant now
      expect(JSON.stringify(left)).not.toContain('console:a');

      await turn('b', 'b two'); // the session goes on (the erasure bumped its version, the open sees it)
      expect((await store.history(thread)).map((h) => h.text)).toEqual(['b one', 're b one', 'b two', 're b two']);
      expect(await store.eraseUser('console:b')).toEqual([thread]);
      expect(await store.history(thread)).toEqual([]);
      const gone = await store.open(thread);
      expect(gone.record).toBeNull(); // the last participant left: the session is gone entirely
      await store.release(gone);
      await store.close();
    });

    it('a shared session that survives an erasure has its state scrubbed as the caller says (the asker\'s words may be in it)', async () => {
      const store = await make({ historyMax: 200, lockWaitMs: 2000 });
      const thread = 'console:T1:C2:111.333';
      for (const [user, text] of [['a', 'my own words'], ['b', 'b says']] as const) {
        const s = await store.open(thread);
        await store.commit(s, { state: { slots: { feeling: text }, step: 3 }, meta: meta(user), append: turnOf(user, text) });
      }
      const scrubbed: unknown[] = [];
      await store.eraseUser('console:a', 'user', undefined, { scrubState: (st) => (scrubbed.push(st), { ...(st as object), slots: {} }) });
      expect(scrubbed).toEqual([{ slots: { feeling: 'b says' }, step: 3 }]); // the stored state, read back
      const left = await store.exportUser('console:b');
      expect(left.sessions[0]!.state).toEqual({ slots: {}, step: 3 });
      await store.close();
    });

    it('a shared session exports only the asker\'s own entries', async () => {
      const store = await make({ historyMax: 200, lockWaitMs: 2000 });
      const thread = 'console:T1:C1:333.444';
      for (const [user, text] of [['a', 'I want to feel calm'], ['b', 'my boss shouts'], ['a', 'in my chest']] as const) {
        const s = await store.open(thread);
        await store.commit(s, { state: { slots: { said: text } }, meta: meta(user), append: turnOf(user, text) });
      }
      const solo = await store.open('console:a-own');
      await store.commit(solo, { state: { mine: true }, meta: meta('a'), append: turnOf('a', 'alone') });
      const a = await store.exportUser('console:a');
      const shared = a.sessions.find((s) => s.sessionId === thread)!;
      expect(shared).toMatchObject({ shared: true, state: null, meta: { userId: 'a' } });
      expect(shared.history.map((h) => h.text)).toEqual(['I want to feel calm', 're I want to feel calm', 'in my chest', 're in my chest']);
      expect(JSON.stringify(a)).not.toContain('boss');
      expect(a.sessions.find((s) => s.sessionId === 'console:a-own')).toMatchObject({ state: { mine: true }, history: [{ text: 'alone' }, { text: 're alone' }] });
      const b = (await store.exportUser('console:b')).sessions;
      expect(b.map((s) => s.history.map((h) => h.text))).toEqual([['my boss shouts', 're my boss shouts']]);
      await store.close();
    });

    it('entries without an owner (written before owners were recorded): the sole participant\'s; in a shared session erased by either, exported to neither', async () => {
      const store = await make({ historyMax: 200, lockWaitMs: 2000 });
      let s = await store.open('console:old-dm');
      await store.commit(s, { state: {}, meta: meta('a'), append: [entry('old a'), entry('old reply', 'bot')] });
      expect((await store.exportUser('console:a')).sessions[0]!.history.map((h) => h.text)).toEqual(['old a', 'old reply']);
      const thread = 'console:T1:C1:555.666';
      s = await store.open(thread);
      await store.commit(s, { state: {}, meta: meta('a'), append: [entry('old a'), entry('old b')] }); // owners unknown
      for (const user of ['b', 'a']) {
        s = await store.open(thread);
        await store.commit(s, { state: {}, meta: meta(user), append: turnOf(user, `new ${user}`) });
      }
      expect((await store.exportUser('console:a')).sessions.find((x) => x.sessionId === thread)!.history.map((h) => h.text)).toEqual(['new a', 're new a']);
      expect((await store.exportUser('console:b')).sessions[0]!.history.map((h) => h.text)).toEqual(['new b', 're new b']);
      await store.eraseUser('console:a');
      expect((await store.history(thread)).map((h) => h.text)).toEqual(['new b', 're new b']);
      expect(await store.history('console:old-dm')).toEqual([]);
      await store.close();
    });

    it('annotate appends a note to an existing session only', async () => {
      const store = await make({ historyMax: 200, lockWaitMs: 2000 });
      const s = await store.open('console:note');
      await store.commit(s, { state: {}, meta: meta('n'), append: [entry('hi')] });
      await store.annotate('console:note', { role: 'system', text: 'reply not delivered', at: '2026-01-01T00:00:00.000Z', action: 'undelivered' });
      await store.annotate('console:gone', { role: 'system', text: 'reply not delivered', at: '2026-01-01T00:00:00.000Z', action: 'undelivered' });
      expect((await store.history('console:note')).map((h) => h.role)).toEqual(['user', 'system']);
      expect(await store.history('console:gone')).toEqual([]);
      await store.close();
    });

    it('prefs: written by a commit, read by open with prefsOf, per person (not per session); absent without prefsOf', async () => {
      const store = await make({ historyMax: 200, lockWaitMs: 2000 });
      let s = await store.open('console:p1', { prefsOf: 'console:pa' });
      expect(s.prefs).toEqual({}); // none stored yet
      await store.commit(s, { state: {}, meta: meta('pa'), append: [], prefs: { userKey: 'console:pa', value: { country: 'AU', platformCountry: 'GB' } } });
      s = await store.open('console:p2', { prefsOf: 'console:pa' }); // another session of theirs
      expect(s.prefs).toEqual({ country: 'AU', platformCountry: 'GB' });
      await store.release(s);
      s = await store.open('console:p1');
      expect(s.prefs).toBeUndefined();
      await store.release(s);
      s = await store.open('console:p1', { prefsOf: 'console:pb' }); // someone else: theirs, not pa's
      expect(s.prefs).toEqual({});
      await store.commit(s, { state: {}, meta: meta('pb'), append: [] }); // no prefs in the commit: nothing written
      s = await store.open('console:p1', { prefsOf: 'console:pa' });
      expect(s.prefs).toEqual({ country: 'AU', platformCountry: 'GB' });
      await store.release(s);
      await store.close();
    });

    it('prefs: an unset field is removed; empty prefs delete them (and the export has none)', async () => {
      const store = await make({ historyMax: 200, lockWaitMs: 2000 });
      const set = async (value: Prefs) => {
        const s = await store.open('console:pu', { prefsOf: 'console:pu' });
        await store.commit(s, { state: {}, meta: meta('pu'), append: [], prefs: { userKey: 'console:pu', value } });
        const again = await store.open('console:pu', { prefsOf: 'console:pu' });
        await store.release(again);
        return again.prefs;
      };
      expect(await set({ country: 'NZ', platformCountry: 'AU' })).toEqual({ country: 'NZ', platformCountry: 'AU' });
      const unset = await set({ country: undefined, platformCountry: 'AU' });
      expect(unset).toEqual({ platformCountry: 'AU' });
      expect(Object.keys(unset!)).toEqual(['platformCountry']);
      expect((await store.exportUser('console:pu')).prefs).toEqual({ platformCountry: 'AU' });
      expect(await set({})).toEqual({});
      expect((await store.exportUser('console:pu')).prefs).toBeUndefined();
      await store.close();
    });

    it('prefs: a stale commit does not write them', async () => {
      const store = await make({ historyMax: 200, lockWaitMs: 2000 });
      const a = await store.open('console:ps', { prefsOf: 'console:ps' });
      await store.release(a); // lock lost, the turn goes on
      const b = await store.open('console:ps');
      await store.commit(b, { state: {}, meta: meta('ps'), append: [] });
      await expect(store.commit(a, { state: {}, meta: meta('ps'), append: [], prefs: { userKey: 'console:ps', value: { country: 'DE' } } })).rejects.toBeInstanceOf(StaleSessionError);
      const c = await store.open('console:ps', { prefsOf: 'console:ps' });
      expect(c.prefs).toEqual({});
      await store.release(c);
      expect((await store.exportUser('console:ps')).prefs).toBeUndefined();
      await store.close();
    });

    it('prefs: exported with the person\'s data and erased with it, and only theirs', async () => {
      const store = await make({ historyMax: 200, lockWaitMs: 2000 });
      for (const [user, country] of [['pe', 'IE'], ['pf', 'FR']] as const) {
        const s = await store.open(`console:${user}`);
        await store.commit(s, { state: {}, meta: meta(user), append: [entry('hi')], prefs: { userKey: `console:${user}`, value: { country } } });
      }
      expect(await store.exportUser('console:pe')).toMatchObject({ userKey: 'console:pe', prefs: { country: 'IE' }, sessions: [{ sessionId: 'console:pe' }] });
      await store.eraseUser('console:pe');
      expect((await store.exportUser('console:pe')).prefs).toBeUndefined();
      const s = await store.open('console:pe', { prefsOf: 'console:pe' });
      expect(s.prefs).toEqual({});
      await store.release(s);
      expect((await store.exportUser('console:pf')).prefs).toEqual({ country: 'FR' });
      await store.close();
    });

    it('resetHistory replaces the history', async () => {
      const store = await make({ historyMax: 200, lockWaitMs: 2000 });
      let s = await store.open('console:r');
      await store.commit(s, { state: {}, meta: meta('r'), append: [entry('old')] });
      s = await store.open('console:r');
      await store.commit(s, { state: {}, meta: meta('r'), append: [entry('new')], resetHistory: true });
      expect((await store.history('console:r')).map((h) => h.text)).toEqual(['new']);
      await store.close();
    });
  });
}
