/** RedisOverrideStore against the real Redis on 127.0.0.1:6379 (a unique key prefix per test, cleaned up). */
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { RedisSessionStore } from '../../src/index.js';
import { NoSuchVersionError } from '../../src/overrides/override-store.js';
import type { Scope } from '../../src/overrides/override-doc.js';
import { HISTORY_MAX, RedisOverrideStore } from '../../src/overrides/redis-override-store.js';
import { cleanup, client, uniquePrefix } from '../redis/helpers.js';
import { until } from '../wait.js';

const acme: Scope = { kind: 'tenant', name: 'acme' };
const tone: Scope = { kind: 'experiment', name: 'tone' };
const doc = (line: string) => ({ config: { responses: { actions: { ask_goal: [line] } } } });

const prefixes: string[] = [];
const clients: Redis[] = [];
const closers: Array<() => Promise<void>> = [];
function make() {
  const prefix = uniquePrefix();
  prefixes.push(prefix);
  const c = client();
  clients.push(c);
  const sessions = new RedisSessionStore({ client: c, prefix });
  const store = new RedisOverrideStore({ client: c, prefix, audit: (e) => sessions.audit(e) });
  return { prefix, store, sessions, redis: c };
}
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
  clients.splice(0).forEach((c) => c.disconnect());
});
afterAll(async () => {
  await Promise.all(prefixes.map((p) => cleanup(p)));
});

/** Resolves with the ms `cond` took to hold; fails after `ms` (announcements are due within a second). */
async function heldAfter(cond: () => boolean, ms = 1000): Promise<number> {
  const start = Date.now();
  await until(cond, { timeoutMs: ms, everyMs: 5, what: `the condition (not within ${ms} ms)` });
  return Date.now() - start;
}

describe('RedisOverrideStore: versions, history, rollback, delete', () => {
  it('numbers every write 1, 2, 3 and lists history newest first', async () => {
    const { store } = make();
    expect(await store.get(acme)).toBeUndefined();
    const written = [];
    for (const line of ['one', 'two', 'three']) written.push(await store.set(acme, doc(line), 'operator:alice'));
    expect(written.map((w) => w.version)).toEqual([1, 2, 3]);
    expect(written[0]).toMatchObject({ scope: acme, action: 'set', actor: 'operator:alice', doc: doc('one') });
    expect(await store.get(acme)).toEqual(written[2]);
    expect((await store.history(acme)).map((h) => h.version)).toEqual([3, 2, 1]);
    expect((await store.history(acme, 2)).map((h) => h.version)).toEqual([3, 2]);
  });

  it('keeps the document byte for byte (empty arrays, numbers, quotes and the splice marker inside strings)', async () => {
    const { store } = make();
    const tricky = { description: 'a ,"doc": inside "quotes" and ünïcödé', flags: {}, config: { llm: { guards: [], temperature: 0.1234567890123, big: 12345678901234567 } } };
    const actor = 'operator:o\'"doc":x';
    const w = await store.set(acme, tricky, actor);
    expect(w.doc).toEqual(tricky);
    expect(w.actor).toBe(actor);
    await store.set(acme, doc('next'), 'operator:a');
    const back = await store.rollback(acme, 'operator:a');
    expect(back.doc).toEqual(tricky);
    expect(JSON.stringify(back.doc)).toBe(JSON.stringify(tricky));
  });

  it('rollback writes the previous document again as a new version, with from', async () => {
    const { store } = make();
    await store.set(acme, doc('one'), 'operator:a');
    await store.set(acme, doc('two'), 'operator:a');
    const back = await store.rollback(acme, 'operator:b');
    expect(back).toMatchObject({ version: 3, action: 'rollback', from: 1, actor: 'operator:b', doc: doc('one') });
    expect(await store.get(acme)).toEqual(back);
    // Rolling back again undoes the rollback (the version before the current one).
    expect(await store.rollback(acme, 'operator:b')).toMatchObject({ version: 4, from: 2, doc: doc('two') });
  });

  it('rollback --to writes that version; to a deleted version, it deletes', async () => {
    const { store } = make();
    await store.set(acme, doc('one'), 'operator:a');
    await store.set(acme, doc('two'), 'operator:a');
    await store.delete(acme, 'operator:a');
    await store.set(acme, doc('four'), 'operator:a');
    expect(await store.rollback(acme, 'operator:a', 2)).toMatchObject({ version: 5, from: 2, doc: doc('two') });
    expect(await store.rollback(acme, 'operator:a', 3)).toMatchObject({ version: 6, from: 3, doc: null });
    expect(await store.get(acme)).toBeUndefined();
    // The default skips deleted versions: after the delete it restores the newest document before it.
    expect(await store.rollback(acme, 'operator:a')).toMatchObject({ version: 7, from: 5, doc: doc('two') });
  });

  it('delete removes the current override and keeps the history', async () => {
    const { store } = make();
    await store.set(acme, doc('one'), 'operator:a');
    const del = await store.delete(acme, 'operator:a');
    expect(del).toMatchObject({ version: 2, action: 'delete', doc: null });
    expect(await store.get(acme)).toBeUndefined();
    expect((await store.history(acme)).map((h) => [h.version, h.action])).toEqual([[2, 'delete'], [1, 'set']]);
  });

  it('throws NoSuchVersionError for a missing version or nothing to roll back to', async () => {
    const { store } = make();
    await expect(store.rollback(acme, 'operator:a')).rejects.toBeInstanceOf(NoSuchVersionError);
    await store.set(acme, doc('one'), 'operator:a');
    await expect(store.rollback(acme, 'operator:a')).rejects.toBeInstanceOf(NoSuchVersionError); // nothing earlier
    await expect(store.rollback(acme, 'operator:a', 2)).rejects.toThrow(/no version 2/);
    await expect(store.rollback(acme, 'operator:a', 0)).rejects.toBeInstanceOf(NoSuchVersionError);
    expect((await store.history(acme)).length).toBe(1); // nothing written by the refusals
  });

  it(`caps history at ${HISTORY_MAX} entries but keeps numbering; a trimmed version cannot be restored`, async () => {
    const { store, redis, prefix } = make();
    for (let i = 0; i < HISTORY_MAX + 2; i++) await store.set(tone, { split: { a: 1 }, description: `v${i + 1}` }, 'operator:a');
    expect(await redis.llen(`${prefix}:config:{experiment:tone}:history`)).toBe(HISTORY_MAX);
    expect((await store.get(tone))?.version).toBe(HISTORY_MAX + 2);
    await expect(store.rollback(tone, 'operator:a', 2)).rejects.toThrow(/no version 2 \(kept: 3 to 1002\)/);
    expect(await store.rollback(tone, 'operator:a', 3)).toMatchObject({ version: HISTORY_MAX + 3, doc: { description: 'v3' } });
  });

  it('refuses a scope name that would break the key (braces, spaces)', async () => {
    const { store } = make();
    await expect(store.set({ kind: 'tenant', name: 'a}b' }, {}, 'operator:a')).rejects.toThrow(/invalid tenant name/);
  });
});

describe('RedisOverrideStore: index, keys and audit', () => {
  it('uses the documented keys and lists every scope with a current override', async () => {
    const { store, redis, prefix } = make();
    await store.set(acme, doc('one'), 'operator:a');
    await store.set(tone, { split: { control: 1 } }, 'operator:a');
    await store.set({ kind: 'style', name: 'warm' }, {}, 'operator:a');
    await store.delete({ kind: 'style', name: 'warm' }, 'operator:a');
    expect((await redis.keys(`${prefix}:config:*`)).sort()).toEqual(
      [`${prefix}:config:index`, ...['tenant:acme', 'experiment:tone', 'style:warm'].map((id) => `${prefix}:config:{${id}}:history`), `${prefix}:config:{tenant:acme}:current`, `${prefix}:config:{experiment:tone}:current`].sort(),
    );
    expect((await store.list()).map((o) => `${o.scope.kind}:${o.scope.name}@${o.version}`)).toEqual(['experiment:tone@1', 'tenant:acme@1']);
  });

  it('list() skips an index entry whose current is gone; the next write repairs a missing entry', async () => {
    const { store, redis, prefix } = make();
    await store.set(acme, doc('one'), 'operator:a');
    await redis.sadd(`${prefix}:config:index`, 'tenant:ghost', 'not-a-scope');
    expect((await store.list()).map((o) => o.scope.name)).toEqual(['acme']);
    await redis.srem(`${prefix}:config:index`, 'tenant:acme'); // as if a writer crashed before SADD
    expect(await store.list()).toEqual([]);
    await store.set(acme, doc('two'), 'operator:a');
    expect((await store.list()).map((o) => o.version)).toEqual([2]);
  });

  it('leaves one audit entry per write, without the document', async () => {
    const { store, sessions } = make();
    await store.set(acme, doc('Welcome to Acme'), 'operator:alice');
    await store.set(acme, doc('Second'), 'operator:alice');
    await store.rollback(acme, 'operator:bob');
    await store.delete(acme, 'operator:carol');
    const trail = await sessions.auditTrail(10);
    expect(trail.map(({ id: _id, at: _at, ...rest }) => rest)).toEqual([
      { actor: 'operator:carol', action: 'override_delete', target: 'tenant:acme', version: '4' },
      { actor: 'operator:bob', action: 'override_rollback', target: 'tenant:acme', version: '3', from: '1' },
      { actor: 'operator:alice', action: 'override_set', target: 'tenant:acme', version: '2' },
      { actor: 'operator:alice', action: 'override_set', target: 'tenant:acme', version: '1' },
    ]);
    expect(JSON.stringify(trail)).not.toMatch(/Welcome|Second/);
  });
});

describe('RedisOverrideStore: pub/sub', () => {
  it('announces every write to subscribers on other connections within a second', async () => {
    const { store, prefix } = make();
    const otherClient = client(); // another instance: its own connection
    clients.push(otherClient);
    const other = new RedisOverrideStore({ client: otherClient, prefix });
    const seen: string[] = [];
    let resyncs = 0;
    closers.push(await other.subscribe((id) => seen.push(id), () => resyncs++));
    expect(resyncs).toBe(1); // the first subscribe counts: the caller loads everything then
    await store.set(acme, doc('one'), 'operator:a');
    expect(await heldAfter(() => seen.length === 1)).toBeLessThan(1000);
    await store.rollback(acme, 'operator:a', 1);
    await store.delete(acme, 'operator:a');
    await store.set(tone, { split: { a: 1 } }, 'operator:a');
    await heldAfter(() => seen.length === 4);
    expect(seen).toEqual(['tenant:acme', 'tenant:acme', 'tenant:acme', 'experiment:tone']);
  });

  it('calls onResync again after the subscriber connection is killed, and keeps receiving', async () => {
    const { store, prefix, redis } = make();
    const seen: string[] = [];
    let resyncs = 0;
    const unsubscribe = await store.subscribe((id) => seen.push(id), () => resyncs++);
    closers.push(unsubscribe);
    expect(resyncs).toBe(1);
    const subscriberIds = async () =>
      ((await redis.client('LIST')) as string)
        .split('\n')
        .filter((l) => l.includes(` name=${prefix}:config-subscriber `))
        .map((l) => /(?:^|\s)id=(\d+)/.exec(l)![1]!);
    const [id] = await subscriberIds();
    expect(id).toBeDefined();
    await redis.client('KILL', 'ID', id!);
    await heldAfter(() => resyncs === 2, 3000);
    // The resync ran with the channel live again: a write right after it is still heard.
    await store.set(acme, doc('after'), 'operator:a');
    await heldAfter(() => seen.includes('tenant:acme'));
    expect((await subscriberIds()).length).toBe(1);
    closers.pop();
    await unsubscribe();
    expect(await subscriberIds()).toEqual([]); // the duplicate connection is gone
  });
});

describe('RedisOverrideStore: unreachable Redis', () => {
  it('subscribe() rejects, so the caller can retry (the base config stays in force meanwhile)', async () => {
    const down = new Redis('redis://127.0.0.1:1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    down.on('error', () => undefined);
    const store = new RedisOverrideStore({ client: down, prefix: uniquePrefix() });
    await expect(store.subscribe(() => undefined, () => undefined)).rejects.toThrow();
    down.disconnect();
  });
});
