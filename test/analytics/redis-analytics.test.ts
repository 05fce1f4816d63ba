/**
 * RedisAnalytics against the machine's Redis (127.0.0.1:6379), one key prefix
 * per test: counts per tenant and arm, hour and day keys with their TTLs, no
 * ids or text in any key or value, failed flushes keep (then drop) counts, and
 * the hot path never waits.
 */
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RedisAnalytics, type RedisAnalyticsOptions } from '../../src/analytics/redis-analytics.js';
import { AnalyticsKeys, dayBucket, hourBucket } from '../../src/analytics/keys.js';
import { listScopes, readCounts } from '../../src/analytics/reader.js';
import type { Logger } from '../../src/util/logger.js';
import { silentLogger } from '../../src/util/logger.js';
import { cleanup, client } from '../redis/helpers.js';
import { until } from '../wait.js';
import { EXPECTED, PATH, scenario, walk } from './fixtures.js';

const AT = new Date(Date.UTC(2026, 4, 1, 14, 30)); // 2026-05-01 14:30 UTC
const HOUR = '2026050114';
const DAY = '20260501';

let prefix: string;
let redis: Redis;
const open: RedisAnalytics[] = [];

function analytics(o: Partial<RedisAnalyticsOptions> = {}): RedisAnalytics {
  const a = new RedisAnalytics({ client: redis, prefix, logger: silentLogger, now: () => AT, flushEveryMs: 60_000, ...o });
  open.push(a);
  return a;
}

function record(a: RedisAnalytics): void {
  const { turns, limited } = scenario();
  for (const t of turns) a.turn(t);
  for (const l of limited) a.limited(l);
}

const counts = (fields: Record<string, number>) => Object.fromEntries(Object.entries(fields).filter(([, n]) => n > 0));
const funnelFields = (values: number[]) => Object.fromEntries(PATH.map((id, i) => [`reached:${id}`, values[i]!]));

beforeEach(async () => {
  prefix = `trttest-${Math.random().toString(16).slice(2, 10)}`;
  redis = client();
});

afterEach(async () => {
  for (const a of open.splice(0)) await a.close();
  redis.disconnect();
  await cleanup(prefix);
});

describe('RedisAnalytics', () => {
  it('counts per tenant and per experiment arm, in hour and day keys', async () => {
    const a = analytics();
    record(a);
    await a.flush();
    const keys = new AnalyticsKeys(prefix);
    for (const [g, bucket] of [['hour', HOUR], ['day', DAY]] as const) {
      const read = async (scope: Parameters<AnalyticsKeys['counts']>[0]) => Object.fromEntries(Object.entries(await redis.hgetall(keys.counts(scope, g, bucket))).map(([f, v]) => [f, Number(v)]));
      expect(await read({ experiment: 'onboarding', arm: 'control' })).toEqual({ ...counts(EXPECTED.control), ...funnelFields(EXPECTED.funnel.control) });
      expect(await read({ experiment: 'onboarding', arm: 'variant' })).toEqual({ ...counts(EXPECTED.variant), ...funnelFields(EXPECTED.funnel.variant) });
      expect(await read({ tenant: 'acme' })).toMatchObject(counts(EXPECTED.acme));
      expect(await read({ tenant: '_none' })).toMatchObject(counts(EXPECTED.none));
      expect(await read({ experiment: 'tone', arm: 'warm' })).toMatchObject({ ...counts(EXPECTED.warm), 'reached:1.6_handover': 2 });
    }
    expect((await redis.smembers(keys.index)).sort()).toEqual(['exp:onboarding:control', 'exp:onboarding:variant', 'exp:tone:warm', 'tenant:_none', 'tenant:acme']);
    expect(a.pendingFields).toBe(0);
  });

  it('sets TTLs on hour and day keys within the configured ranges (and none on the index)', async () => {
    const a = analytics({ hourTtlDays: 2, dayTtlDays: 30 });
    record(a);
    await a.flush();
    const keys = new AnalyticsKeys(prefix);
    const hourTtl = await redis.ttl(keys.counts({ tenant: 'acme' }, 'hour', HOUR));
    const dayTtl = await redis.ttl(keys.counts({ experiment: 'onboarding', arm: 'variant' }, 'day', DAY));
    expect(hourTtl).toBeGreaterThan(2 * 86_400 - 60);
    expect(hourTtl).toBeLessThanOrEqual(2 * 86_400);
    expect(dayTtl).toBeGreaterThan(30 * 86_400 - 60);
    expect(dayTtl).toBeLessThanOrEqual(30 * 86_400);
    expect(await redis.ttl(keys.index)).toBe(-1);
  });

  it('writes only documented keys holding names and numbers: no user id, no message text', async () => {
    const a = analytics();
    record(a);
    // A tenant or experiment name with characters that would break the layout is made safe, not trusted.
    a.turn({ ...walk('odd {tenant}: x', { 'exp:1': 'arm}{' }, 1)[0]! });
    await a.flush();
    const found: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      found.push(...batch);
    } while (cursor !== '0');
    expect(found.length).toBeGreaterThan(0);
    const layout = new RegExp(`^${prefix}:analytics:(index|tenant:\\{[A-Za-z0-9._@-]+\\}:(h:\\d{10}|d:\\d{8})|exp:\\{[A-Za-z0-9._@-]+\\}:[A-Za-z0-9._@-]+:(h:\\d{10}|d:\\d{8}))$`);
    const texts: string[] = [];
    for (const key of found) {
      expect(key).toMatch(layout);
      if (key.endsWith(':index')) texts.push(...(await redis.smembers(key)));
      else for (const [field, value] of Object.entries(await redis.hgetall(key))) {
        expect(field).toMatch(/^(sessions|turns|completions|crisis_referrals|rate_limited|reached:[A-Za-z0-9._@-]+)$/);
        expect(value).toMatch(/^\d+$/);
        texts.push(field);
      }
    }
    const all = [...found, ...texts].join('\n');
    for (const secret of ['U0SECRET', 'slack:', 'discord:', 'console:', 'feel', ' ']) expect(all).not.toContain(secret);
    expect(found).toContain(`${prefix}:analytics:tenant:{odd__tenant___x}:d:${DAY}`);
  });

  it('never awaits or throws on the hot path', async () => {
    const broken = client();
    broken.disconnect();
    const a = new RedisAnalytics({ client: broken, prefix, logger: silentLogger, flushEveryMs: 60_000, now: () => { throw new Error('clock'); } });
    open.push(a);
    const [t] = walk('acme', { onboarding: 'control' }, 1);
    expect(a.turn(t!)).toBeUndefined();
    expect(a.limited({ tenant: 'acme', experiments: {} })).toBeUndefined();
    const b = analytics({ client: broken });
    for (let i = 0; i < 1000; i++) expect(b.turn(t!)).toBeUndefined();
    // 4 keys (tenant and arm, hour and day) x 3 fields (sessions, turns, reached:1.1_goal), however many turns.
    expect(b.pendingFields).toBe(12);
    await b.flush(); // Redis is unreachable: resolves, keeps the counts
    expect(b.pendingFields).toBe(12);
  });

  it('keeps counts through a Redis outage and writes them on the next flush', async () => {
    const warns: Array<{ obj: object; msg: string | undefined }> = [];
    const logger: Logger = { ...silentLogger, warn: (obj, msg) => void warns.push({ obj, msg }) };
    const a = analytics({ logger });
    record(a);
    redis.disconnect(); // an outage: every command now fails at once
    await a.flush();
    expect(a.pendingFields).toBeGreaterThan(0);
    expect(warns).toHaveLength(1);
    expect(JSON.stringify(warns[0]!.obj)).toMatch(/"err":"[A-Za-z_]+"/); // an error code, never a message
    // Counted during the outage: added to what is waiting.
    a.limited({ tenant: 'acme', experiments: {} });
    await redis.connect();
    await a.flush();
    expect(a.pendingFields).toBe(0);
    const keys = new AnalyticsKeys(prefix);
    expect(await redis.hget(keys.counts({ tenant: 'acme' }, 'day', DAY), 'rate_limited')).toBe(String(EXPECTED.acme.rate_limited + 1));
    expect(await redis.hget(keys.counts({ experiment: 'onboarding', arm: 'control' }, 'hour', HOUR), 'turns')).toBe(String(EXPECTED.control.turns));
    expect(await redis.scard(keys.index)).toBe(5);
  });

  it('puts back only the commands that failed, and drops them after maxFailures with a warning', async () => {
    const warns: string[] = [];
    const logger: Logger = { ...silentLogger, warn: (_obj, msg) => void warns.push(msg ?? '') };
    const a = analytics({ logger, maxFailures: 3 });
    const keys = new AnalyticsKeys(prefix);
    const blocked = keys.counts({ tenant: 'acme' }, 'hour', HOUR);
    await redis.set(blocked, 'not a hash'); // HINCRBY on it fails with WRONGTYPE
    record(a);
    await a.flush();
    const acmeFields = Object.keys(counts(EXPECTED.acme)).length + PATH.length;
    expect(a.pendingFields).toBe(acmeFields);
    expect(await redis.hget(keys.counts({ tenant: 'acme' }, 'day', DAY), 'turns')).toBe(String(EXPECTED.acme.turns));
    await a.flush();
    expect(a.pendingFields).toBe(acmeFields);
    await a.flush(); // the third failure in a row: dropped
    expect(a.pendingFields).toBe(0);
    expect(warns.some((m) => m.includes('dropped'))).toBe(true);
    // Nothing was counted twice on the keys that worked.
    expect(await redis.hget(keys.counts({ tenant: 'acme' }, 'day', DAY), 'turns')).toBe(String(EXPECTED.acme.turns));
  });

  it('flushes on its own timer, and close() writes what is left', async () => {
    const a = analytics({ flushEveryMs: 30 });
    a.turn(walk('acme', {}, 1)[0]!);
    const key = new AnalyticsKeys(prefix).counts({ tenant: 'acme' }, 'day', DAY);
    await until(async () => (await redis.exists(key)) === 1, { timeoutMs: 3000, what: 'the timer to flush the counts' });
    expect(await redis.hget(key, 'sessions')).toBe('1');
    const b = analytics({ flushEveryMs: 60_000 });
    b.limited({ tenant: 'acme', experiments: {} });
    await b.close();
    expect(await redis.hget(key, 'rate_limited')).toBe('1');
    b.turn(walk('acme', {}, 1)[0]!); // after close: ignored
    expect(b.pendingFields).toBe(0);
  });
});

describe('the index set', () => {
  it('is swept of scopes whose counts have all expired, and keeps the rest; a swept scope that counts again comes back', async () => {
    const a = analytics();
    a.turn(walk('gone', {}, 1)[0]!);
    a.turn(walk('live', {}, 1)[0]!);
    await a.close();
    const keys = new AnalyticsKeys(prefix);
    expect((await redis.smembers(keys.index)).sort()).toEqual(['tenant:gone', 'tenant:live']);
    // Everything of 'gone' has expired (as its TTLs would make it, after dayTtlDays without a count).
    for (const g of ['day', 'hour'] as const) await redis.del(keys.counts({ tenant: 'gone' }, g, g === 'day' ? DAY : HOUR));
    const b = analytics();
    expect(await b.sweepIndex()).toBe(1);
    expect(await redis.smembers(keys.index)).toEqual(['tenant:live']);
    expect(await b.sweepIndex()).toBe(0); // idempotent: any instance may sweep
    b.turn(walk('gone', {}, 1)[0]!);
    await b.close();
    expect((await redis.smembers(keys.index)).sort()).toEqual(['tenant:gone', 'tenant:live']);
  });
});

describe('reader', () => {
  it('reads hour and day buckets per tenant and per arm, and lists scopes', async () => {
    const a = analytics();
    record(a);
    const later = new Date(AT.getTime() + 2 * 3_600_000);
    const b = analytics({ now: () => later });
    b.turn(walk('acme', { onboarding: 'variant' }, 1)[0]!);
    await a.flush();
    await b.flush();
    const from = new Date(AT.getTime() - 86_400_000);
    const to = new Date(AT.getTime() + 86_400_000);

    const days = await readCounts(redis, prefix, { scope: { tenant: 'acme' }, from, to, granularity: 'day' });
    expect(days).toHaveLength(1);
    expect(days[0]).toMatchObject({ bucket: DAY, counts: { ...counts(EXPECTED.acme), sessions: EXPECTED.acme.sessions + 1, turns: EXPECTED.acme.turns + 1 } });

    const hours = await readCounts(redis, prefix, { scope: { experiment: 'onboarding' }, from, to, granularity: 'hour' });
    expect(hours.map((r) => [r.bucket, r.arm, r.counts.sessions])).toEqual([
      [HOUR, 'control', 3],
      [HOUR, 'variant', 2],
      [hourBucket(later), 'variant', 1],
    ]);
    expect(dayBucket(later)).toBe(DAY);
    expect(await listScopes(redis, prefix)).toEqual({ tenants: ['_none', 'acme'], experiments: { onboarding: ['control', 'variant'], tone: ['warm'] } });
    expect(await readCounts(redis, prefix, { scope: { experiment: 'nope' }, from, to, granularity: 'day' })).toEqual([]);
  });
});
