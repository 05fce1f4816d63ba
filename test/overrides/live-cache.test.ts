/**
 * LiveOverrides' cache, reloads and attribution, over the real Redis store with
 * the notifications' timing under the test's control (gated-store.ts).
 * Regressions found in review.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { LiveOverrides, type Logger } from '../../src/index.js';
import { exchanges, repoConfig } from '../helpers.js';
import { cleanup, uniquePrefix } from '../redis/helpers.js';
import { until } from '../wait.js';
import { GatedStore } from './gated-store.js';

const errors: string[] = [];
const logger = { error: (_o: unknown, m: string) => errors.push(m), warn: () => undefined, info: () => undefined, debug: () => undefined, child: () => logger } as unknown as Logger;
const prefixes: string[] = [];
const stores: GatedStore[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
});
afterAll(async () => {
  for (const p of prefixes) await cleanup(p);
});

function store(): GatedStore {
  const prefix = uniquePrefix();
  prefixes.push(prefix);
  const s = new GatedStore(prefix);
  stores.push(s);
  return s;
}

const armDoc = { split: { warm: 100 }, arms: { warm: { config: { responses: { actions: { ask_goal: ['Warm welcome. What would you like to feel?'] } } } } } };

describe('variant cache', () => {
  it('a resync that finds nothing changed keeps every compiled variant', async () => {
    const s = store();
    await s.put({ kind: 'experiment', name: 'tone' }, armDoc);
    const live = new LiveOverrides(repoConfig(), exchanges, s, logger);
    await live.start();
    const before = live.variant({ platform: 'slack', userId: 'U1', tenant: 'T1' });
    const lists = s.listed;
    s.onResync!(); // what the 30 s timer and every reconnect do
    await until(() => s.listed > lists, { what: 'the resync to read the overrides' });
    const after = live.variant({ platform: 'slack', userId: 'U1', tenant: 'T1' });
    expect(after.classifier).toBe(before.classifier);
    await live.stop();
  });

  it('workspaces without an override of their own share the compiled arm; each keeps its tenant name', async () => {
    const s = store();
    await s.put({ kind: 'experiment', name: 'tone' }, armDoc);
    const live = new LiveOverrides(repoConfig(), exchanges, s, logger);
    await live.start();
    const a = live.variant({ platform: 'slack', userId: 'U1', tenant: 'TAAAA' });
    const b = live.variant({ platform: 'slack', userId: 'U1', tenant: 'TBBBB' });
    expect(b.navigator).toBe(a.navigator);
    expect([a.tenant, b.tenant]).toEqual(['TAAAA', 'TBBBB']);
    await live.stop();
  });

  it('1,000 more workspaces in an experiment do not evict a compiled variant', async () => {
    const s = store();
    await s.put({ kind: 'experiment', name: 'tone' }, armDoc);
    const live = new LiveOverrides(repoConfig(), exchanges, s, logger);
    await live.start();
    const first = live.variant({ platform: 'discord', userId: 'U1', tenant: 'G0' });
    for (let i = 1; i <= 1000; i++) live.variant({ platform: 'discord', userId: 'U1', tenant: `G${i}` });
    expect(live.variant({ platform: 'discord', userId: 'U1', tenant: 'G0' }).classifier).toBe(first.classifier);
    await live.stop();
  });
});

describe('reloads', () => {
  it('a resync is not thrown away when a single change arrives while it runs: what was missed comes into force', async () => {
    const s = store();
    const live = new LiveOverrides(repoConfig(), exchanges, s, logger);
    await live.start();
    // While the subscription was down, tenant acme got an override (its announcement was missed).
    await s.put({ kind: 'tenant', name: 'acme' }, { config: { responses: { actions: { ask_goal: ['Acme welcome. What would you like to feel?'] } } } });
    let open!: () => void;
    s.listGate = new Promise((r) => (open = r));
    s.onResync!(); // reconnected: reload everything (list() is slow)
    await until(() => s.listsHeld === 1, { what: 'the resync to read its snapshot' });
    await s.put({ kind: 'style', name: 'warm' }, { config: { responses: { actions: { ask_goal: ['Warm. What would you like to feel?'] } } } });
    s.listGate = undefined;
    s.onChange!('style:warm'); // an unrelated change arrives meanwhile
    await until(() => live.inForce()['style:warm'], { what: 'the single change to be taken' });
    open();
    await until(() => live.inForce()['tenant:acme'] && live.inForce()['style:warm'], { timeoutMs: 3000, what: () => `both in force; in force: ${JSON.stringify(live.inForce())}` });
    expect(live.inForce()).toHaveProperty('tenant:acme');
    expect(live.inForce()).toHaveProperty('style:warm');
    await live.stop();
  });

  it('stop() while subscribing closes the subscription made after it', async () => {
    const s = store();
    const live = new LiveOverrides(repoConfig(), exchanges, s, logger);
    let open!: () => void;
    s.subscribeGate = new Promise((r) => (open = r));
    const started = live.start();
    await until(() => s.subscribes === 1, { what: 'start() to be subscribing' });
    await live.stop(); // e.g. SIGTERM during start-up
    open();
    await started;
    await until(() => s.unsubscribed > 0, { what: 'the late subscription to be closed' });
    expect(s.unsubscribed).toBe(1);
  });
});

describe('start-up', () => {
  it('a first load that fails delays start() until the overrides are read: nobody is answered on the base config', async () => {
    const s = store();
    await s.put({ kind: 'experiment', name: 'tone' }, armDoc);
    s.failLists = 2;
    const live = new LiveOverrides(repoConfig(), exchanges, s, logger);
    let started = false;
    const starting = live.start().then(() => (started = true));
    await until(() => s.failLists === 0, { what: 'both failing reads to have been tried' });
    expect(started).toBe(false); // still loading: createEngine (and so every receiver and worker) waits
    expect(live.ready).toBe(false);
    await starting;
    expect(live.ready).toBe(true);
    // The first person served is in the arm, not on the base config.
    expect(live.variant({ platform: 'slack', userId: 'U1', tenant: undefined }).experiments).toEqual({ tone: 'warm' });
    await live.stop();
  });

  it('a slow first load is waited for, not skipped: start() resolves only once the list has answered', async () => {
    const s = store();
    await s.put({ kind: 'experiment', name: 'tone' }, armDoc);
    let answer!: () => void;
    s.listGate = new Promise((r) => (answer = r));
    const live = new LiveOverrides(repoConfig(), exchanges, s, logger);
    let started = false;
    const starting = live.start().then(() => (started = true));
    await until(() => s.listsHeld === 1, { what: 'the first list to be held' });
    expect(started).toBe(false);
    expect(live.ready).toBe(false);
    answer();
    await starting;
    expect(live.variant({ platform: 'slack', userId: 'U1', tenant: undefined }).experiments).toEqual({ tone: 'warm' });
    await live.stop();
  });

  it('stop() during a failing first load ends start() without loading', async () => {
    const s = store();
    s.failLists = 1_000;
    const live = new LiveOverrides(repoConfig(), exchanges, s, logger);
    const starting = live.start();
    await until(() => s.failLists < 1_000, { what: 'the first read to have failed' });
    await live.stop(); // SIGTERM while Redis is not answering
    await starting;
    expect(live.ready).toBe(false);
  });
});

describe('experiment attribution', () => {
  it('a person whose arm could not be applied (valid alone, not with their tenant) is not counted in that arm', async () => {
    const s = store();
    // acme skips psycho-education; the experiment shortens it. Each is valid alone (the CLI accepts both).
    await s.put({ kind: 'tenant', name: 'acme' }, { config: { navigation: { stages: { stage_1: { substates: { '1.3_psychoeducation': null, '1.2_vision': { next: '1.4_problem_and_body' } } } } } } });
    await s.put({ kind: 'experiment', name: 'pace' }, { split: { short: 100 }, arms: { short: { config: { navigation: { stages: { stage_1: { substates: { '1.3_psychoeducation': { max_attempts: 1 } } } } } } } } });
    const live = new LiveOverrides(repoConfig(), exchanges, s, logger);
    await live.start();
    expect(live.inForce()).toEqual({ 'tenant:acme': 1, 'experiment:pace': 1 });
    const v = live.variant({ platform: 'slack', userId: 'U1', tenant: 'acme' });
    expect(v.version).not.toContain('experiment:pace');
    expect(errors.join()).toContain('does not fit');
    expect(v.experiments).toEqual({});
    // Elsewhere the arm applies and is counted.
    expect(live.variant({ platform: 'slack', userId: 'U1', tenant: 'other' }).experiments).toEqual({ pace: 'short' });
    await live.stop();
  });
});

describe('override safety', () => {
  it('a style cannot select another style (it would be ignored)', async () => {
    const { validateOverride } = await import('../../src/index.js');
    expect(validateOverride(repoConfig(), exchanges, { kind: 'style', name: 'warm' }, { style: 'other' })[0]!.message).toContain('cannot select another style');
  });
});
