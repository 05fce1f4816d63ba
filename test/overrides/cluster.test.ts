/** RedisOverrideStore on a 3-master Redis Cluster the test starts: one slot per scope, PUBLISH from a script reaches every node. */
import { describe, expect, it } from 'vitest';
import { RedisOverrideStore } from '../../src/overrides/redis-override-store.js';
import { useCluster } from '../redis/helpers.js';
import { until } from '../wait.js';

const cluster = useCluster();
const clusterClient = cluster.connect;

describe('RedisOverrideStore on Redis Cluster', () => {
  it('writes scopes spread over the masters and announces each to a subscriber of another client', async () => {
    const prefix = `cl${Math.random().toString(36).slice(2, 8)}`;
    const writer = new RedisOverrideStore({ client: await clusterClient(), prefix });
    const reader = new RedisOverrideStore({ client: await clusterClient(), prefix });
    const seen: string[] = [];
    let resyncs = 0;
    const unsubscribe = await reader.subscribe((id) => seen.push(id), () => resyncs++);
    expect(resyncs).toBe(1);
    const names = Array.from({ length: 12 }, (_, i) => `t${i}`);
    for (const name of names) await writer.set({ kind: 'tenant', name }, { flags: {} }, 'operator:a');
    await writer.rollback({ kind: 'tenant', name: 't0' }, 'operator:a', 1);
    await until(() => seen.length >= names.length + 1, { timeoutMs: 1000, what: () => `${names.length + 1} announcements; got ${seen.length}` });
    // Each scope's messages come in order; across scopes (slots on different masters) the cluster bus may reorder them.
    expect([...seen].sort()).toEqual([...names.map((n) => `tenant:${n}`), 'tenant:t0'].sort());
    expect((await reader.list()).map((o) => o.scope.name).sort()).toEqual([...names].sort());
    await unsubscribe();
  });
});
