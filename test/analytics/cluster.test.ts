/** RedisAnalytics on a 3-master Redis Cluster the test starts itself: writes and reads stay within one slot per pipeline. */
import { beforeAll, describe, expect, it } from 'vitest';
import { RedisAnalytics } from '../../src/analytics/redis-analytics.js';
import { listScopes, readCounts } from '../../src/analytics/reader.js';
import type { RedisClient } from '../../src/redis/connection.js';
import { silentLogger } from '../../src/util/logger.js';
import { useCluster } from '../redis/helpers.js';
import { EXPECTED, scenario } from './fixtures.js';

const cluster = useCluster();
let c: RedisClient;
beforeAll(async () => {
  c = await cluster.connect();
}, 60_000);

describe('analytics on Redis Cluster', () => {
  it('flushes every tenant and arm (many slots) and reads them back', async () => {
    const prefix = 'clan';
    const warn: unknown[] = [];
    const a = new RedisAnalytics({ client: c, prefix, logger: { ...silentLogger, warn: (o) => void warn.push(o) } });
    const { turns, limited } = scenario();
    for (const t of turns) a.turn(t);
    for (const l of limited) a.limited(l);
    // More tenants, so the keys surely spread over all three masters.
    for (let i = 0; i < 20; i++) a.limited({ tenant: `t${i}`, experiments: {} });
    await a.close();
    expect(warn).toEqual([]);
    expect(a.pendingFields).toBe(0);
    const now = new Date();
    const rows = await readCounts(c, prefix, { scope: { experiment: 'onboarding' }, from: now, to: now, granularity: 'day' });
    expect(rows.find((r) => r.arm === 'variant')?.counts).toMatchObject({ sessions: EXPECTED.variant.sessions, turns: EXPECTED.variant.turns });
    const scopes = await listScopes(c, prefix);
    expect(scopes.tenants).toHaveLength(22);
  });
});
