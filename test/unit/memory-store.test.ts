import { describe, expect, it } from 'vitest';
import { MemorySessionStore } from '../../src/index.js';
import { sessionStoreContract } from '../contract/session-store.contract.js';

sessionStoreContract('MemorySessionStore', { make: (o) => new MemorySessionStore(o) });

describe('MemorySessionStore retention', () => {
  it('forgets a session idle for longer than the TTL', async () => {
    let now = 0;
    const store = new MemorySessionStore({ ttlMs: 1000, now: () => now });
    const s = await store.open('console:old');
    await store.commit(s, { state: {}, meta: { platform: 'console', userId: 'o', createdAt: '', lastActiveAt: '', turnCount: 1, schemaVersion: 1 }, append: [] });
    now = 999;
    expect(await store.history('console:old')).toEqual([]); // exists, empty history
    const alive = await store.open('console:old');
    expect(alive.record).not.toBeNull();
    await store.release(alive);
    now = 2100;
    const gone = await store.open('console:old');
    expect(gone.record).toBeNull();
    await store.release(gone);
    expect((await store.exportUser('console:o')).sessions).toEqual([]);
  });
});

describe('MemorySessionStore prefs retention', () => {
  const meta = { platform: 'console', userId: 'k', createdAt: '', lastActiveAt: '', turnCount: 1, schemaVersion: 1 };
  it('keeps a person\'s prefs while they are active (each commit of theirs), drops them after the TTL idle', async () => {
    let now = 0;
    const store = new MemorySessionStore({ ttlMs: 1000, now: () => now });
    let s = await store.open('console:k1');
    await store.commit(s, { state: {}, meta, append: [], prefs: { userKey: 'console:k', value: { country: 'ZA' } } });
    now = 900;
    s = await store.open('console:k2'); // another session: a commit without prefs keeps them alive
    await store.commit(s, { state: {}, meta, append: [] });
    now = 1800; // 1800 after the write, 900 after the last commit
    s = await store.open('console:k2', { prefsOf: 'console:k' });
    expect(s.prefs).toEqual({ country: 'ZA' });
    await store.release(s); // a release is not activity
    now = 3000;
    s = await store.open('console:k2', { prefsOf: 'console:k' });
    expect(s.prefs).toEqual({});
    await store.release(s);
    expect((await store.exportUser('console:k')).prefs).toBeUndefined();
  });
});
