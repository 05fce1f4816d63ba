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
