/**
 * What a turn pays to find its config: the variant lookup (tenant map, experiment
 * arms by hash, one Map get) with and without overrides in force, against one
 * Redis GET round trip (what reading overrides from Redis on every turn would cost;
 * the design note's bar: memory 0.001 ms vs Redis 1-2 ms).
 */
import { Redis } from 'ioredis';
import { LiveOverrides, silentLogger, type EngineConfig, type Exchange } from '../../src/index.js';
import type { OverrideStore, StoredOverride } from '../../src/overrides/override-store.js';
import { throughput } from './measure.js';
import { percentile } from './synthetic.js';

export interface OverrideFigures {
  lookupNsBase: number;
  lookupNsOverrides: number;
  redisGetP50Ms: number;
  redisGetP99Ms: number;
}

/** A fixed set of overrides (the bench measures lookups, not the store). */
function fixedStore(docs: StoredOverride[]): OverrideStore {
  return {
    get: async (scope) => docs.find((d) => d.scope.kind === scope.kind && d.scope.name === scope.name),
    list: async () => docs,
    set: async () => Promise.reject(new Error('read-only')),
    rollback: async () => Promise.reject(new Error('read-only')),
    delete: async () => Promise.reject(new Error('read-only')),
    history: async () => docs,
    subscribe: async () => async () => undefined,
  };
}

export async function benchOverrides(config: EngineConfig, exchanges: readonly Exchange[], redisUrl: string, seconds: number): Promise<OverrideFigures> {
  const at = new Date().toISOString();
  const stored = (kind: 'tenant' | 'experiment', name: string, doc: unknown): StoredOverride => ({ scope: { kind, name }, version: 1, doc, at, actor: 'bench', action: 'set' });
  const live = new LiveOverrides(config, exchanges, fixedStore([
    stored('tenant', 'acme', { config: { responses: { actions: { ask_goal: ['Welcome to Acme. What would you like to feel instead?'] } } } }),
    stored('experiment', 'tone', { split: { control: 50, warm: 50 }, arms: { warm: { flags: { llm_streaming: false } } } }),
    stored('experiment', 'pace', { split: { a: 1, b: 1, c: 1 } }),
  ]), silentLogger);
  const base = new LiveOverrides(config, exchanges, fixedStore([]), silentLogger);
  await Promise.all([live.start(), base.start()]);
  const users = Array.from({ length: 4096 }, (_, i) => `U${i}`);
  // Warm the variant cache (each combination is compiled once, on first use).
  for (const u of users) live.variant({ platform: 'slack', userId: u, tenant: 'acme' });
  const perSec = (src: LiveOverrides) => throughput((i) => src.variant({ platform: 'slack', userId: users[i & 4095]!, tenant: 'acme' }), seconds);
  const lookupNsBase = Math.round(1e9 / perSec(base));
  const lookupNsOverrides = Math.round(1e9 / perSec(live));
  await Promise.all([live.stop(), base.stop()]);

  const redis = new Redis(redisUrl, { lazyConnect: true });
  await redis.connect();
  await redis.set('bench:override:probe', JSON.stringify({ config: {} }));
  const times: number[] = [];
  for (let i = 0; i < 2000; i++) {
    const t = performance.now();
    await redis.get('bench:override:probe');
    times.push(performance.now() - t);
  }
  await redis.del('bench:override:probe');
  redis.disconnect();
  const round = (n: number) => Math.round(n * 1000) / 1000;
  return { lookupNsBase, lookupNsOverrides, redisGetP50Ms: round(percentile(times, 0.5)), redisGetP99Ms: round(percentile(times, 0.99)) };
}
