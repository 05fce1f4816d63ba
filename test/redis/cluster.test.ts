/** The Redis store on a 3-master Redis Cluster the test starts itself: every session's keys share a slot. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine, RedisSessionStore, connectRedis, createRedisClient, type RedisClient } from '../../src/index.js';
import { sessionStoreContract } from '../contract/session-store.contract.js';
import { chat, repoConfig, repoRetriever } from '../helpers.js';
import { startCluster } from './helpers.js';

let cluster: Awaited<ReturnType<typeof startCluster>>;
const clients: RedisClient[] = [];
beforeAll(async () => {
  cluster = await startCluster();
}, 60_000);
afterAll(async () => {
  clients.forEach((c) => c.disconnect());
  await cluster.stop();
});

async function clusterStore(opts: { historyMax?: number; lockWaitMs?: number } = {}): Promise<RedisSessionStore> {
  const c = createRedisClient({ clusterNodes: cluster.seeds, commandTimeoutMs: 2000 });
  c.on('error', () => undefined);
  await connectRedis(c);
  clients.push(c);
  return new RedisSessionStore({ client: c, prefix: `cl${Math.random().toString(36).slice(2, 8)}`, ...opts });
}

sessionStoreContract('RedisSessionStore on Redis Cluster', { make: (o) => clusterStore(o) });

describe('Redis Cluster', () => {
  it('runs whole conversations for sessions spread over all three masters', async () => {
    const store = await clusterStore();
    const engine = new Engine({ config: repoConfig(), store, retriever: repoRetriever() });
    const ids = Array.from({ length: 12 }, (_, i) => `discord:dm:${1000 + i}`);
    for (const id of ids) {
      const say = chat(engine, id, id.slice(-4), 'discord');
      await say('hello');
      expect((await say('I want to feel calm')).action).toBe('present_vision');
    }
    for (const id of ids) expect(await store.history(id)).toHaveLength(4);
    expect((await store.listActive()).length).toBe(12);
    expect((await store.exportUser('discord:1003')).sessions).toHaveLength(1);
  });
});
