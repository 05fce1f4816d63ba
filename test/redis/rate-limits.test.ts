/**
 * Shared rate limits against the real Redis on 127.0.0.1:6379 (a unique key
 * prefix per test, cleaned up), a redis-server the test kills, a closed port,
 * and a 3-master Cluster; plus the in-memory implementation.
 */
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { RateLimitsConfig } from '../../src/config/schemas.js';
import { formatWait, MemoryRateLimits, RedisRateLimits, type LimitDecision, type LimitSubject, type RateLimits } from '../../src/limits/rate-limits.js';
import { fillSlots } from '../../src/text/template.js';
import { repoConfig } from '../helpers.js';
import { cleanup, client, freePort, RedisServer, startCluster, uniquePrefix } from './helpers.js';
import { until } from '../wait.js';

/** Every limit off unless given. */
function limits(over: Partial<RateLimitsConfig>): RateLimitsConfig {
  return { version: 't', per_user: null, per_session: null, per_tenant: null, llm_tokens: null, block_in_memory: true, ...over };
}
const per = (points: number, duration_s = 60) => ({ points, duration_s });
const subject = (user: string, session = `console:${user}`, tenant?: string): LimitSubject => ({ userKey: `console:${user}`, sessionId: session, tenant });
const refusals = (ds: LimitDecision[]) => ds.filter((d): d is Extract<LimitDecision, { allowed: false }> => !d.allowed);

const prefixes: string[] = [];
const clients: Redis[] = [];
const toClose: RateLimits[] = [];

/** A client that is connected (the limiter sends a client that is not "ready" straight to the insurance limiter). */
async function readyClient(): Promise<Redis> {
  const c = client();
  clients.push(c);
  await c.ping();
  return c;
}
/** `n` RedisRateLimits on their own clients, sharing one prefix: `n` instances of the bot. */
async function instances(n: number, config: RateLimitsConfig): Promise<{ prefix: string; rl: RedisRateLimits[] }> {
  const prefix = uniquePrefix();
  prefixes.push(prefix);
  const rl = await Promise.all(Array.from({ length: n }, async () => new RedisRateLimits({ client: await readyClient(), prefix, config })));
  toClose.push(...rl);
  return { prefix, rl };
}

afterEach(() => {
  toClose.splice(0).forEach((r) => r.close?.());
  clients.splice(0).forEach((c) => c.disconnect());
});
afterAll(async () => {
  await Promise.all(prefixes.map((p) => cleanup(p)));
});

describe('RedisRateLimits: exact across instances', () => {
  it('40 concurrent messages over two instances, limit 7: exactly 7 allowed, exactly one notice', async () => {
    const { prefix, rl: [a, b] } = await instances(2, limits({ per_user: per(7) }));
    const ds = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a! : b!).admit(subject('alice'))));
    expect(ds.filter((d) => d.allowed)).toHaveLength(7);
    const refused = refusals(ds);
    expect(refused).toHaveLength(33);
    expect(refused.every((d) => d.scope === 'user')).toBe(true);
    expect(refused.filter((d) => d.notify)).toHaveLength(1);
    // Refused messages are not counted: Redis holds exactly what was admitted.
    const r = await readyClient();
    expect(await r.get(`${prefix}:rl:user:console:alice`)).toBe('7');
    // Later refusals, on either instance, stay silent.
    expect(await a!.admit(subject('alice'))).toMatchObject({ allowed: false, notify: false });
    expect(await b!.admit(subject('alice'))).toMatchObject({ allowed: false, notify: false });
  });

  it('different users are independent', async () => {
    const { rl: [a, b] } = await instances(2, limits({ per_user: per(2) }));
    const u1 = await Promise.all([a!, b!, a!, b!].map((x) => x.admit(subject('u1'))));
    expect(u1.filter((d) => d.allowed)).toHaveLength(2); // which two depends on arrival order at Redis
    expect(await b!.admit(subject('u2'))).toEqual({ allowed: true });
    expect(await a!.admit(subject('u2'))).toEqual({ allowed: true });
  });

  it('per-session: everyone in a thread shares it; a message refused for its sender is not counted against the session', async () => {
    const { rl: [a, b] } = await instances(2, limits({ per_user: per(2), per_session: per(3) }));
    const thread = 'slack:T1:C1:1700000000.000100';
    const u1 = await Promise.all(Array.from({ length: 5 }, (_, i) => (i % 2 ? a! : b!).admit(subject('u1', thread))));
    expect(u1.filter((d) => d.allowed)).toHaveLength(2);
    expect(refusals(u1).every((d) => d.scope === 'user')).toBe(true);
    // The session has counted 2 (u1's refused 3 stopped at the user scope): one more fits.
    expect(await a!.admit(subject('u2', thread))).toEqual({ allowed: true });
    expect(await b!.admit(subject('u2', thread))).toMatchObject({ allowed: false, scope: 'session', notify: true });
    expect(await a!.admit(subject('u3', thread))).toMatchObject({ allowed: false, scope: 'session', notify: true }); // one notice per person
    expect(await b!.admit(subject('u3', thread))).toMatchObject({ allowed: false, scope: 'session', notify: false });
    // A message refused by a later scope still counts for its sender: u2 has now sent 3.
    expect(await a!.admit(subject('u2', thread))).toMatchObject({ allowed: false, scope: 'user', notify: true });
    expect(await b!.admit(subject('u4', 'slack:T1:C1:other'))).toEqual({ allowed: true }); // another thread has its own count
  });

  it('per-tenant: all sessions of a tenant share it; other tenants and turns without a tenant are not affected', async () => {
    const { rl: [a, b] } = await instances(2, limits({ per_tenant: per(5) }));
    const ds = await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 ? a! : b!).admit(subject(`p${i}`, `s${i}`, 'T1'))));
    expect(ds.filter((d) => d.allowed)).toHaveLength(5);
    const refused = refusals(ds);
    expect(refused.every((d) => d.scope === 'tenant' && d.notify)).toBe(true); // each person hears it once
    expect(await a!.admit(subject('p0', 's0', 'T2'))).toEqual({ allowed: true });
    expect(await b!.admit(subject('p0', 's0'))).toEqual({ allowed: true });
  });

  it('retryAfterMs is within (0, window] and renders as a wait in the reply', async () => {
    const { rl: [a] } = await instances(1, limits({ per_user: per(1, 60) }));
    await a!.admit(subject('w'));
    const d = await a!.admit(subject('w'));
    if (d.allowed) throw new Error('expected a refusal');
    expect(d.retryAfterMs).toBeGreaterThan(55_000);
    expect(d.retryAfterMs).toBeLessThanOrEqual(60_000);
    const reply = fillSlots(repoConfig().responses.system.rate_limited, { wait: formatWait(d.retryAfterMs) });
    expect(reply).toMatch(/wait about (a minute|5\d seconds) /);
    expect(reply).not.toContain('{');
  });

  it('a new window admits again and notifies again', async () => {
    const { prefix, rl: [a, b] } = await instances(2, limits({ per_user: per(2, 1) }));
    const first = await Promise.all([a!, b!, a!, b!].map((x) => x.admit(subject('x'))));
    const decided = Date.now();
    expect(first.filter((d) => d.allowed)).toHaveLength(2);
    expect(refusals(first).filter((d) => d.notify)).toHaveLength(1);
    // The 1 s window ends: the refusals said when (each instance blocks in memory until then), and Redis expires the count.
    const windowEnds = decided + Math.max(...refusals(first).map((d) => d.retryAfterMs));
    const r = await readyClient();
    await until(async () => Date.now() > windowEnds && (await r.exists(`${prefix}:rl:user:console:x`, `${prefix}:rl:notified:user:console:x`)) === 0, { timeoutMs: 3000, what: 'the window to end' });
    const second = await Promise.all([b!, a!, b!, a!].map((x) => x.admit(subject('x'))));
    expect(second.filter((d) => d.allowed)).toHaveLength(2);
    expect(refusals(second).filter((d) => d.notify)).toHaveLength(1);
  });
});

describe('RedisRateLimits: repeat offenders are refused from memory', () => {
  it('once the allowance is used, further messages make no Redis call at all', async () => {
    const { prefix, rl: [a] } = await instances(1, limits({ per_user: per(3) }));
    const monitor = await (await readyClient()).monitor();
    const seen: string[][] = [];
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      // Commands the script runs inside Redis show up too, marked "lua": only count what the client sent.
      if (!source.startsWith('lua') && args.some((x) => x.startsWith(prefix))) seen.push(args);
    });
    const waitSeen = (part: string) => until(() => seen.some((args) => args.some((x) => x.includes(part))), { everyMs: 5, what: `${part} on the monitor` });
    /** A marker through Redis, waited for on the monitor: every command sent before it has been seen. */
    const drain = async () => {
      const marker = `${prefix}:marker:${Math.random()}`;
      await clients[0]!.get(marker);
      await waitSeen(marker);
      const before = seen.splice(0).filter((args) => !args.includes(marker));
      return before;
    };

    for (let i = 0; i < 3; i++) expect((await a!.admit(subject('spam'))).allowed).toBe(true);
    // Control: the monitor does see the counting script for each admitted message.
    expect((await drain()).filter((args) => args.includes(`${prefix}:rl:user:console:spam`))).toHaveLength(3);

    expect(await a!.admit(subject('spam'))).toMatchObject({ allowed: false, scope: 'user', notify: true });
    expect((await drain()).map((args) => args[0]!.toLowerCase())).toEqual(['set']); // only the notice mark (SET NX PX)

    const again = await Promise.all(Array.from({ length: 20 }, () => a!.admit(subject('spam'))));
    expect(again.every((d) => !d.allowed && !d.notify && d.retryAfterMs > 0)).toBe(true);
    expect(await drain()).toEqual([]); // 20 refusals, not one Redis command
    monitor.disconnect();
  });

  it('refusals keep coming from memory with Redis gone (the insurance limiter alone would have allowed them)', async () => {
    const c = await readyClient();
    const prefix = uniquePrefix();
    prefixes.push(prefix);
    const a = new RedisRateLimits({ client: c, prefix, config: limits({ per_user: per(3) }) });
    for (let i = 0; i < 3; i++) expect((await a.admit(subject('gone'))).allowed).toBe(true);
    c.disconnect();
    const ds = await Promise.all(Array.from({ length: 5 }, () => a.admit(subject('gone'))));
    expect(ds.every((d) => !d.allowed && d.scope === 'user')).toBe(true);
    // Another person, whose key is not blocked, goes to the insurance limiter: its own count, from zero.
    expect((await a.admit(subject('fresh'))).allowed).toBe(true);
  });
});

describe('RedisRateLimits: Redis unreachable', () => {
  it('a client on a closed port: limits in memory (per instance), notifies once, never throws', async () => {
    const c = new Redis({ port: await freePort(), host: '127.0.0.1', enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => 200 });
    c.on('error', () => undefined);
    clients.push(c);
    const rl = new RedisRateLimits({ client: c, prefix: uniquePrefix(), config: limits({ per_user: per(3), per_session: per(10), llm_tokens: per(1000) }) });
    const ds: LimitDecision[] = [];
    for (let i = 0; i < 6; i++) ds.push(await rl.admit(subject('off')));
    expect(ds.map((d) => d.allowed)).toEqual([true, true, true, false, false, false]);
    expect(refusals(ds).map((d) => d.notify)).toEqual([true, false, false]);
    expect(refusals(ds)[0]!.retryAfterMs).toBeGreaterThan(0);
    const spends = await Promise.all([300, 300, 300, 300].map((t) => rl.spendTokens(t)));
    expect(spends.map((s) => s.allowed)).toEqual([true, true, true, false]);
    expect((await rl.spendTokens(100)).allowed).toBe(true); // the refused spend was given back
  });

  it('Redis killed mid-window: the insurance limiter takes over at once, with its own count', async () => {
    const server = await RedisServer.start();
    try {
      const c = new Redis(server.url, { maxRetriesPerRequest: 1, commandTimeout: 1000, retryStrategy: () => 100 });
      c.on('error', () => undefined);
      clients.push(c);
      await c.ping();
      const rl = new RedisRateLimits({ client: c, prefix: 'rl-kill', config: limits({ per_user: per(3) }) });
      expect((await rl.admit(subject('k'))).allowed).toBe(true); // counted in Redis
      await server.kill();
      const started = Date.now();
      const ds: LimitDecision[] = [];
      for (let i = 0; i < 5; i++) ds.push(await rl.admit(subject('k')));
      expect(Date.now() - started).toBeLessThan(3000);
      // Per instance during the outage: the memory limiter starts from zero.
      expect(ds.map((d) => d.allowed)).toEqual([true, true, true, false, false]);
      expect(refusals(ds).map((d) => d.notify)).toEqual([true, false]);
    } finally {
      await server.destroy();
    }
  });
});

describe('RedisRateLimits: the LLM token budget', () => {
  it('a 1000-token budget over two instances: spends of 300, exactly 3 allowed; refused spends are not counted', async () => {
    const { rl: [a, b] } = await instances(2, limits({ llm_tokens: per(1000) }));
    const spends = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a! : b!).spendTokens(300)));
    expect(spends.filter((s) => s.allowed)).toHaveLength(3);
    for (const s of spends.filter((x) => !x.allowed)) {
      expect(s.retryAfterMs).toBeGreaterThan(0);
      expect(s.retryAfterMs).toBeLessThanOrEqual(60_000);
    }
    expect(await a!.spendTokens(100)).toEqual({ allowed: true, retryAfterMs: 0 }); // 900 + 100 fits exactly
    expect((await b!.spendTokens(1)).allowed).toBe(false);
    expect(await b!.spendTokens(0)).toEqual({ allowed: true, retryAfterMs: 0 });
  });

  it('no budget configured: every spend is allowed', async () => {
    const { rl: [a] } = await instances(1, limits({}));
    expect((await a!.spendTokens(10_000_000)).allowed).toBe(true);
    expect(await a!.admit(subject('n'))).toEqual({ allowed: true });
  });
});

describe('RedisRateLimits on Redis Cluster', () => {
  it('counts exactly across two cluster clients (each key alone in its command)', async () => {
    const cluster = await startCluster();
    const cs = cluster.seeds.split(',').map((hp) => ({ host: hp.split(':')[0]!, port: Number(hp.split(':')[1]) }));
    const { Cluster } = await import('ioredis');
    const made = [new Cluster(cs), new Cluster(cs)];
    try {
      await Promise.all(made.map((c) => c.ping()));
      const config = limits({ per_user: per(5), llm_tokens: per(1000) });
      const [a, b] = made.map((c) => new RedisRateLimits({ client: c, prefix: 'rlc', config }));
      for (const user of ['c1', 'c2', 'c3', 'c4']) {
        const ds = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a! : b!).admit(subject(user))));
        expect(ds.filter((d) => d.allowed)).toHaveLength(5);
        expect(refusals(ds).filter((d) => d.notify)).toHaveLength(1);
      }
      const spends = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 ? a! : b!).spendTokens(300)));
      expect(spends.filter((s) => s.allowed)).toHaveLength(3);
    } finally {
      made.forEach((c) => c.disconnect());
      await cluster.stop();
    }
  }, 60_000);
});

describe('MemoryRateLimits', () => {
  it('limits per user, session and tenant in this process, with one notice per window', async () => {
    const rl = new MemoryRateLimits({ config: limits({ per_user: per(3), per_session: per(4), per_tenant: per(6) }) });
    const ds = await Promise.all(Array.from({ length: 6 }, () => rl.admit(subject('m', 's', 'T'))));
    expect(ds.map((d) => d.allowed)).toEqual([true, true, true, false, false, false]);
    expect(refusals(ds).map((d) => [d.scope, d.notify])).toEqual([['user', true], ['user', false], ['user', false]]);
    expect(await rl.admit(subject('m2', 's', 'T'))).toEqual({ allowed: true }); // session: 4 of 4
    expect(await rl.admit(subject('m3', 's', 'T'))).toMatchObject({ allowed: false, scope: 'session', notify: true });
    expect(await rl.admit(subject('m4', 's2', 'T'))).toEqual({ allowed: true }); // tenant: 5 of 6
    expect(await rl.admit(subject('m5', 's3', 'T'))).toEqual({ allowed: true });
    const t = await rl.admit(subject('m6', 's4', 'T'));
    expect(t).toMatchObject({ allowed: false, scope: 'tenant', notify: true });
    if (!t.allowed) expect(t.retryAfterMs).toBeLessThanOrEqual(60_000);
    rl.close();
  });

  it('the token budget: refused spends are given back', async () => {
    const rl = new MemoryRateLimits({ config: limits({ llm_tokens: per(1000) }) });
    const spends = [];
    for (let i = 0; i < 5; i++) spends.push(await rl.spendTokens(300));
    expect(spends.map((s) => s.allowed)).toEqual([true, true, true, false, false]);
    expect((await rl.spendTokens(100)).allowed).toBe(true);
    expect((await rl.spendTokens(1)).allowed).toBe(false);
  });
});

describe('formatWait', () => {
  it('says roughly how long, in words', () => {
    expect([0, 800, 1000].map(formatWait)).toEqual(['a moment', 'a moment', 'a moment']);
    expect(formatWait(8_000)).toBe('about 8 seconds');
    expect(formatWait(37_000)).toBe('about 40 seconds');
    expect(formatWait(58_500)).toBe('about a minute');
    expect(formatWait(60_000)).toBe('about a minute');
    expect(formatWait(125_000)).toBe('about 2 minutes');
    expect(formatWait(3 * 3_600_000)).toBe('about 3 hours');
  });
});
