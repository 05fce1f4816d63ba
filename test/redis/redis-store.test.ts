/** The Redis session store against the real Redis on 127.0.0.1:6379 (a unique key prefix per test, cleaned up). */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { AesGcmCipher, Engine, RedisAlertQueue, RedisSessionStore, type TextCipher } from '../../src/index.js';
import { sessionStoreContract } from '../contract/session-store.contract.js';
import { chat, repoConfig, repoRetriever, ROOT } from '../helpers.js';
import { cleanup, client, REDIS_URL, uniquePrefix } from './helpers.js';
import { pause } from '../wait.js';
import { answered } from '../turn-results.js';

const prefixes: string[] = [];
const stores: RedisSessionStore[] = [];
function makeStore(opts: { prefix?: string; historyMax?: number; lockWaitMs?: number; lockTtlMs?: number; cipher?: TextCipher; ttlSeconds?: number } = {}) {
  const prefix = opts.prefix ?? uniquePrefix();
  prefixes.push(prefix);
  const store = new RedisSessionStore({ client: client(), prefix, ...opts });
  stores.push(store);
  return store;
}
const engineOn = (store: RedisSessionStore) => new Engine({ config: repoConfig(), store, retriever: repoRetriever() });
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
});
afterAll(async () => {
  await Promise.all(prefixes.map((p) => cleanup(p)));
});

sessionStoreContract('RedisSessionStore', { make: (o) => makeStore(o) });

describe('RedisSessionStore: key layout and round trips', () => {
  it('uses the design note layout with literal hash-tag braces, TTLs and both indexes', async () => {
    const store = makeStore({ ttlSeconds: 30 * 86_400 });
    const p = store.keys.prefix;
    const say = chat(engineOn(store), 'console:alice', 'alice');
    await say('hello');
    await say('I want to feel calm');
    const r = client();
    const keys = (await r.keys(`${p}:*`)).sort(); // fine in a test, on our own prefix
    expect(keys).toEqual([
      `${p}:active_sessions`,
      `${p}:session:{console:alice}:history`,
      `${p}:session:{console:alice}:meta`,
      `${p}:session:{console:alice}:participants`,
      `${p}:session:{console:alice}:state`,
      `${p}:user:{console:alice}:sessions`,
    ]);
    expect(await r.hgetall(`${p}:session:{console:alice}:meta`)).toMatchObject({ platform: 'console', user: 'alice', turn_count: '2', schema_version: '1', version: '2' });
    expect(await r.llen(`${p}:session:{console:alice}:history`)).toBe(4);
    expect(await r.smembers(`${p}:session:{console:alice}:participants`)).toEqual(['console:alice']);
    for (const k of ['state', 'history', 'meta', 'participants']) {
      const ttl = await r.ttl(`${p}:session:{console:alice}:${k}`);
      expect(ttl).toBeGreaterThan(30 * 86_400 - 60);
    }
    expect(Number(await r.zscore(`${p}:active_sessions`, 'console:alice'))).toBeGreaterThan(Date.now() - 60_000);
    expect(await r.smembers(`${p}:user:{console:alice}:sessions`)).toEqual(['console:alice']);
    r.disconnect();
  });

  it('a turn waits on two round trips: lock+load, then commit+unlock', async () => {
    const store = makeStore();
    const say = chat(engineOn(store), 'console:rt');
    await say('hello');
    const before = store.roundTrips;
    await say('I want to feel calm');
    expect(store.roundTrips - before).toBe(2);
  });

  it('refuses session ids that would break the hash tag', async () => {
    await expect(makeStore().open('console:{evil}')).rejects.toThrow(/invalid session id/);
  });

  it('a malformed or 1 MB session id is dropped as invalid, not reported as a store outage, and never logged', async () => {
    const lines: Array<{ obj: object; msg?: string | undefined }> = [];
    const at = (obj: object, msg?: string) => void lines.push({ obj, msg });
    const engine = new Engine({ config: repoConfig(), store: makeStore(), retriever: repoRetriever(), logger: { debug: at, info: at, warn: at, error: at } });
    for (const sessionId of ['slack:T1:{evil}', `slack:T1:${'C'.repeat(1_000_000)}`, 'slack:T1:undefined x']) {
      const r = await engine.handleTurn({ sessionId, userId: 'U1', platform: 'slack', text: 'hello' });
      expect(r.kind).toBe('ignored');
      expect(r.reply).toBeNull();
      expect(r).toMatchObject({ outcome: 'ignored', why: 'invalid_session' }); // not redone, and nobody is told "try again"
    }
    expect(lines.map((l) => l.msg)).toEqual(Array(3).fill('message dropped: invalid session id'));
    expect(JSON.stringify(lines)).not.toMatch(/evil|CCCC|undefined x/);
  });
});

describe('RedisSessionStore: preferences', () => {
  const meta = (userId: string) => ({ platform: 'console', userId, createdAt: '', lastActiveAt: '', turnCount: 1, schemaVersion: 1 });

  it('one hash per person, hash-tagged by person, with the retention of their sessions, refreshed by each commit of theirs', async () => {
    const store = makeStore({ ttlSeconds: 3600 });
    const key = `${store.keys.prefix}:user:{console:pt}:prefs`;
    expect(store.keys.prefs('console:pt')).toBe(key);
    let s = await store.open('console:pt1');
    await store.commit(s, { state: {}, meta: meta('pt'), append: [], prefs: { userKey: 'console:pt', value: { country: 'NL', platformCountry: 'DE' } } });
    const r = client();
    expect(await r.hgetall(key)).toEqual({ country: 'NL', platform_country: 'DE' });
    const ttl = await r.ttl(key);
    expect(ttl).toBeGreaterThan(3600 - 60);
    expect(ttl).toBeLessThanOrEqual(3600);
    await r.expire(key, 100); // as if days went by
    s = await store.open('console:pt2');
    await store.commit(s, { state: {}, meta: meta('pt'), append: [] }); // no prefs in it: the TTL is refreshed, the hash unchanged
    expect(await r.ttl(key)).toBeGreaterThan(3600 - 60);
    expect(await r.hgetall(key)).toEqual({ country: 'NL', platform_country: 'DE' });
    await r.hset(key, 'from_a_newer_version', 'x'); // a field this version does not know is left alone by a change
    s = await store.open('console:pt2');
    await store.commit(s, { state: {}, meta: meta('pt'), append: [], prefs: { userKey: 'console:pt', value: { platformCountry: 'DE' } } });
    expect(await r.hgetall(key)).toEqual({ platform_country: 'DE', from_a_newer_version: 'x' });
    r.disconnect();
  });

  it('round trips: open with prefsOf is one, a commit without prefs one, a commit that changes them two (after the commit held)', async () => {
    const store = makeStore();
    let before = store.roundTrips;
    let s = await store.open('console:prt', { prefsOf: 'console:prt' });
    expect(store.roundTrips - before).toBe(1);
    before = store.roundTrips;
    await store.commit(s, { state: {}, meta: meta('prt'), append: [], prefs: { userKey: 'console:prt', value: { country: 'IN' } } });
    expect(store.roundTrips - before).toBe(2);
    before = store.roundTrips;
    s = await store.open('console:prt', { prefsOf: 'console:prt' });
    expect(s.prefs).toEqual({ country: 'IN' });
    await store.commit(s, { state: {}, meta: meta('prt'), append: [] });
    expect(store.roundTrips - before).toBe(2); // open + commit: the hot path unchanged
  });

  it('with a key, the stored values are sealed, read back, and a value that cannot be opened is dropped, never thrown', async () => {
    const prefix = uniquePrefix();
    const store = makeStore({ prefix, cipher: new AesGcmCipher(randomBytes(32)) });
    let s = await store.open('console:pc');
    await store.commit(s, { state: {}, meta: meta('pc'), append: [], prefs: { userKey: 'console:pc', value: { country: 'ES', platformCountry: 'FR' } } });
    const r = client();
    const stored = await r.hgetall(`${prefix}:user:{console:pc}:prefs`);
    expect(Object.keys(stored).sort()).toEqual(['country', 'platform_country']);
    for (const v of Object.values(stored)) expect(v).toMatch(/^enc1\./);
    expect(JSON.stringify(stored)).not.toMatch(/ES|FR/);
    s = await store.open('console:pc', { prefsOf: 'console:pc' });
    expect(s.prefs).toEqual({ country: 'ES', platformCountry: 'FR' });
    await store.release(s);
    await r.hset(`${prefix}:user:{console:pc}:prefs`, 'platform_country', 'enc1.damaged');
    r.disconnect();
    const other = makeStore({ prefix, cipher: new AesGcmCipher(randomBytes(32)) }); // the key is gone
    s = await other.open('console:pc', { prefsOf: 'console:pc' });
    expect(s.prefs).toEqual({});
    await other.release(s);
    s = await store.open('console:pc', { prefsOf: 'console:pc' });
    expect(s.prefs).toEqual({ country: 'ES' }); // the damaged one dropped, the other kept
    await store.release(s);
  });
});

describe('RedisSessionStore: concurrency across instances', () => {
  it('50 turns fired at one session at once from two store instances leave exactly 100 entries, in order', async () => {
    const prefix = uniquePrefix();
    const a = engineOn(makeStore({ prefix, lockWaitMs: 30_000 }));
    const b = engineOn(makeStore({ prefix, lockWaitMs: 30_000 }));
    const texts = Array.from({ length: 50 }, (_, i) => `message ${i}`);
    const results = await Promise.all(texts.map((t, i) => (i % 2 ? a : b).handleTurn({ sessionId: 'console:busy', userId: 'busy', platform: 'console', text: t })));
    expect(results.every((r) => r.kind === 'reply')).toBe(true);
    const history = await makeStore({ prefix }).history('console:busy');
    expect(history).toHaveLength(100);
    history.forEach((h, i) => expect(h.role).toBe(i % 2 === 0 ? 'user' : 'bot'));
    expect(new Set(history.filter((h) => h.role === 'user').map((h) => h.text))).toEqual(new Set(texts));
  });

  it('a crashed instance’s lock expires after its short TTL', async () => {
    const prefix = uniquePrefix();
    const crashed = makeStore({ prefix, lockTtlMs: 400 });
    await crashed.open('console:crash'); // never released
    const started = Date.now();
    const other = makeStore({ prefix, lockWaitMs: 5000 });
    const s = await other.open('console:crash');
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    await other.release(s);
  });

  it('extend keeps a lock alive past its TTL while a slow turn runs', async () => {
    const prefix = uniquePrefix();
    const slow = makeStore({ prefix, lockTtlMs: 300 });
    const s = await slow.open('console:slow');
    // The slow turn: 4 steps of half the TTL (600 ms in all, twice the TTL), extending after each.
    const STEP_MS = 150;
    for (let i = 0; i < 4; i++) {
      await pause(STEP_MS);
      expect(await slow.extend(s)).toBe(true);
    }
    await expect(makeStore({ prefix, lockWaitMs: 100 }).open('console:slow')).rejects.toThrow(/busy/);
    await slow.release(s);
  });
});

describe('RedisSessionStore: encryption at rest', () => {
  const key = () => randomBytes(32);
  it('with a key, no message text is visible in Redis, and the store reads it back', async () => {
    const store = makeStore({ cipher: new AesGcmCipher(key()) });
    const say = chat(engineOn(store), 'console:secret', 'secret');
    await say('I want to feel calm about my divorce from Zanzibar');
    const r = client();
    const p = store.keys.prefix;
    const raw = [await r.get(`${p}:session:{console:secret}:state`), ...(await r.lrange(`${p}:session:{console:secret}:history`, 0, -1))].join('\n');
    expect(raw).not.toMatch(/Zanzibar|divorce|calm/);
    expect(raw).toMatch(/^enc1\./);
    r.disconnect();
    expect((await store.history('console:secret'))[0]!.text).toContain('Zanzibar');
  });

  it('rotation: the previous key still reads old records; new records use the new key', async () => {
    const [oldKey, newKey] = [key(), key()];
    const prefix = uniquePrefix();
    await chat(engineOn(makeStore({ prefix, cipher: new AesGcmCipher(oldKey) })), 'console:rot', 'rot')('I want to feel rested');
    const rotated = makeStore({ prefix, cipher: new AesGcmCipher(newKey, [oldKey]) });
    await chat(engineOn(rotated), 'console:rot', 'rot')('yes');
    expect((await rotated.history('console:rot')).map((h) => h.text)).toContain('I want to feel rested');
    await expect(makeStore({ prefix, cipher: new AesGcmCipher(newKey) }).history('console:rot')).rejects.toThrow(/HISTORY_ENCRYPTION_KEY_PREVIOUS/);
  });
});

describe('RedisSessionStore: damaged or partial sessions', () => {
  it('state encrypted with a key that is gone: the session starts over, the lock is not leaked', async () => {
    const prefix = uniquePrefix();
    await chat(engineOn(makeStore({ prefix, cipher: new AesGcmCipher(randomBytes(32)) })), 'console:lost', 'lost')('I want to feel calm');
    const decodeErrors: string[] = [];
    const store = makeStore({ prefix, cipher: new AesGcmCipher(randomBytes(32)), lockWaitMs: 500 });
    store.onDecodeError = (id) => void decodeErrors.push(id);
    const say = chat(engineOn(store), 'console:lost', 'lost');
    const first = await say('hello');
    expect(first.kind).toBe('reply');
    expect(first.reply).toContain('automated self-help guide'); // a fresh session
    expect(answered(await say('I want to feel rested')).action).toBe('present_vision'); // not busy, not stale
    expect(decodeErrors).toEqual(['console:lost']);
  });

  it('meta without state (evicted): the next turn starts over instead of failing as stale', async () => {
    const store = makeStore();
    const say = chat(engineOn(store), 'console:evicted');
    await say('I want to feel calm');
    const r = client();
    await r.del(`${store.keys.prefix}:session:{console:evicted}:state`);
    r.disconnect();
    expect((await say('hello')).kind).toBe('reply');
    expect(answered(await say('I want to feel rested')).action).toBe('present_vision');
  });
});

describe('RedisSessionStore: retention, erasure, export, audit', () => {
  it('sweeps sessions idle past the TTL out of the active index (no KEYS)', async () => {
    const store = makeStore({ ttlSeconds: 60 });
    const s = await store.open('console:idle');
    await store.commit(s, { state: {}, meta: { platform: 'console', userId: 'idle', createdAt: '', lastActiveAt: '', turnCount: 1, schemaVersion: 1 }, append: [] });
    expect(await store.sweepActive(Date.now())).toBe(0);
    expect(await store.sweepActive(Date.now() + 61_000)).toBe(1);
    expect(await store.listActive()).toEqual([]);
  });

  it('forget in chat erases every session of the person and leaves an audit entry without text', async () => {
    const store = makeStore();
    const engine = engineOn(store);
    await chat(engine, 'console:f1', 'pat')('I want to feel calm in Timbuktu');
    await chat(engine, 'console:f2', 'pat')('hello');
    const say = chat(engine, 'console:f1', 'pat');
    await say('forget');
    await say('yes');
    const r = client();
    expect(await r.keys(`${store.keys.prefix}:session:*`)).toEqual([]);
    r.disconnect();
    const [entry] = await store.auditTrail(1);
    expect(entry).toMatchObject({ actor: 'user', action: 'erase', target: 'console:pat', sessions: '2' });
    expect(JSON.stringify(await store.auditTrail())).not.toContain('Timbuktu');
  });

  it('forget in a shared thread rewrites the session in place: still encrypted, its TTL kept, the LLM cache and the lock gone', async () => {
    const store = makeStore({ cipher: new AesGcmCipher(randomBytes(32)), ttlSeconds: 30 * 86_400 });
    const engine = engineOn(store);
    const thread = 'slack:T1:C1:111.222';
    const p = store.keys.prefix;
    const alice = chat(engine, thread, 'alice', 'slack');
    await alice('I want to feel calm in Timbuktu');
    await chat(engine, thread, 'bob', 'slack')('I want to feel rested in Oslo');
    const r = client();
    await r.hset(`${p}:session:{${thread}}:llm_cache`, 'h', 'sealed answer');
    await alice('forget');
    await alice('yes');
    const raw = await r.lrange(`${p}:session:{${thread}}:history`, 0, -1);
    expect(raw.length).toBe(2);
    expect(raw.every((e) => e.startsWith('enc1.'))).toBe(true);
    expect((await store.history(thread)).map((h) => h.text)).toContain('I want to feel rested in Oslo');
    expect(JSON.stringify(await store.history(thread))).not.toMatch(/Timbuktu|alice/);
    expect(await r.smembers(`${p}:session:{${thread}}:participants`)).toEqual(['slack:bob']);
    expect(await r.hget(`${p}:session:{${thread}}:meta`, 'user')).toBe('bob');
    for (const k of ['history', 'participants', 'state', 'meta']) expect(await r.ttl(`${p}:session:{${thread}}:${k}`)).toBeGreaterThan(30 * 86_400 - 60);
    expect(await r.exists(`${p}:session:{${thread}}:llm_cache`, `${p}:session:{${thread}}:lock`, `${p}:user:{slack:alice}:sessions`)).toBe(0);
    expect(await r.smembers(`${p}:user:{slack:bob}:sessions`)).toEqual([thread]);
    expect(await r.zscore(`${p}:active_sessions`, thread)).not.toBeNull(); // still active for bob
    r.disconnect();
    const [entry] = await store.auditTrail(1);
    expect(entry).toMatchObject({ action: 'erase', target: 'slack:alice', sessions: '1', shared: '1' });
  });

  it('a delivery note that lands between reading a shared session and rewriting it is not lost to a stale rewrite: the erasure reads again', async () => {
    const store = makeStore();
    const thread = 'slack:T1:C1:333.444';
    const engine = engineOn(store);
    await chat(engine, thread, 'alice', 'slack')('I want to feel calm');
    await chat(engine, thread, 'bob', 'slack')('I want to feel rested');
    // Every round trip goes through the store's `call`: after the erasure's first read of the session, a note slips in.
    const seam = store as unknown as { call: (fn: () => Promise<unknown>) => Promise<unknown> };
    const call = seam.call.bind(store);
    let reads = 0;
    seam.call = async (fn) => {
      const out = await call(fn);
      const isRead = Array.isArray(out) && out.length === 4 && !Array.isArray(out[0]) && typeof out[0] === 'object';
      if (isRead && reads++ === 0) await store.annotate(thread, { role: 'system', text: 'reply delivered late', at: new Date().toISOString(), action: 'delivered', to: 'slack:bob' });
      return out;
    };
    await store.eraseUser('slack:alice');
    expect(reads).toBe(2);
    expect((await store.history(thread)).map((h) => h.text)).toEqual(['I want to feel rested', expect.any(String), 'reply delivered late']);
  });

  it('npm run data -- export / erase work on a user and are audited as the operator', async () => {
    const store = makeStore();
    await chat(engineOn(store), 'slack:T1:D1', 'U42', 'slack')('I want to feel grounded');
    const s = await store.open('slack:T1:D1');
    await store.commit(s, { state: s.record!.state, meta: s.record!.meta, append: [], prefs: { userKey: 'slack:U42', value: { country: 'CA' } } });
    const env = { ...process.env, REDIS_URL, REDIS_KEY_PREFIX: store.keys.prefix, OPERATOR: 'dana' };
    const run = (...args: string[]) => promisify(execFile)(`${ROOT}/node_modules/.bin/tsx`, ['scripts/data.ts', ...args], { cwd: ROOT, env });
    // A safety alert about them whose tenant includes the text (include_text), taken by a responder.
    const alerts = new RedisAlertQueue({ client: store.client, prefix: store.keys.prefix, cipher: store.cipher });
    const episode = 'ep_00000000000000a1';
    await alerts.raise({ episode, kind: 'crisis', platform: 'slack', tenant: 'acme', sessionId: 'slack:T1:D1', userId: 'U42', at: '2026-12-01T10:00:00.000Z', text: 'the words that fired it' }, { webhookUrl: 'http://127.0.0.1:9/secret-hook', includeText: true, team: 'the care team' });
    await alerts.acknowledge(episode, 'slack:URESPONDER', new Date('2026-12-01T10:03:00.000Z'));
    const exported = JSON.parse((await run('export', '--user', 'slack:U42')).stdout);
    expect(exported.sessions[0].history[0].text).toBe('I want to feel grounded');
    expect(exported.prefs).toEqual({ country: 'CA' });
    expect(exported.safetyAlerts).toEqual([
      { episode, kind: 'crisis', platform: 'slack', tenant: 'acme', session: 'slack:T1:D1', at: '2026-12-01T10:00:00.000Z', text: 'the words that fired it', sentTo: [], failed: [], acknowledgedAt: '2026-12-01T10:03:00.000Z' },
    ]);
    // Not the organisation's setup nor the colleague who took it.
    expect(JSON.stringify(exported)).not.toMatch(/secret-hook|URESPONDER/);
    const erased = await run('erase', '--user', 'slack:U42');
    expect(erased.stderr).toContain('erased 1 session');
    expect(await store.exportUser('slack:U42')).toEqual({ userKey: 'slack:U42', sessions: [] });
    // The alert record stays (someone may be reaching out), without the words.
    const after = JSON.parse((await run('export', '--user', 'slack:U42')).stdout);
    expect(after.safetyAlerts).toEqual([expect.not.objectContaining({ text: expect.anything() })]);
    expect(after.safetyAlerts[0]).toMatchObject({ episode, kind: 'crisis', acknowledgedAt: '2026-12-01T10:03:00.000Z' });
    const r = client();
    expect(await r.exists(store.keys.prefs('slack:U42'))).toBe(0);
    r.disconnect();
    const trail = await store.auditTrail(5);
    expect(trail.map((t) => `${t.actor} ${t.action}`)).toEqual(expect.arrayContaining(['operator:dana erase', 'operator:dana export']));
    expect((await run('--help')).stdout).toContain('Exit codes');
  });
});
