/** The Redis store on a 3-master Redis Cluster the test starts itself: every session's keys share a slot. */
import { describe, expect, it } from 'vitest';
import { Engine, QueueWorker, RedisSessionStore, RedisTurnQueue, silentLogger } from '../../src/index.js';
import { sessionStoreContract } from '../contract/session-store.contract.js';
import { chat, repoConfig, repoRetriever } from '../helpers.js';
import { useCluster } from './helpers.js';
import { until } from '../wait.js';
import { answered } from '../turn-results.js';

const cluster = useCluster();

async function clusterStore(opts: { historyMax?: number; lockWaitMs?: number } = {}): Promise<RedisSessionStore> {
  const c = await cluster.connect();
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
      expect(answered(await say('I want to feel calm')).action).toBe('present_vision');
    }
    for (const id of ids) expect(await store.history(id)).toHaveLength(4);
    expect((await store.listActive()).length).toBe(12);
    expect((await store.exportUser('discord:1003')).sessions).toHaveLength(1);
  });
});

describe('the turn queue on Redis Cluster', () => {
  it('two workers answer queued messages for sessions on every master, each session in order', async () => {
    const prefix = `clq${Math.random().toString(36).slice(2, 8)}`;
    const replies: string[] = [];
    const outlet = { begin: (_r: Record<string, unknown>, sessionId: string) => ({ deliver: async () => (replies.push(sessionId), true), close: async () => undefined }) };
    const workers = [];
    const queues = [];
    let store!: RedisSessionStore;
    for (let i = 0; i < 2; i++) {
      const c = await cluster.connect();
      const reader = await cluster.connect(5000); // blocking reads wait longer than a command
      store = new RedisSessionStore({ client: c, prefix });
      const engine = new Engine({ config: repoConfig(), store, retriever: repoRetriever() });
      const queue = new RedisTurnQueue({ client: c, prefix });
      const worker = new QueueWorker({ queue, reader, runner: { engine, outlets: { test: outlet }, logger: silentLogger }, logger: silentLogger, blockMs: 200 });
      await worker.start();
      workers.push(worker);
      queues.push(queue);
    }
    const ids = Array.from({ length: 12 }, (_, i) => `test:cq${i}`); // hash tags spread over the three masters
    for (const [i, id] of ids.entries()) {
      for (let k = 0; k < 3; k++) await queues[(i + k) % 2]!.enqueue({ id: `${id}:${k}`, sessionId: id, userId: 'u', platform: 'test', text: `message ${k}`, replyTo: {}, receivedAt: Date.now() });
    }
    const deadline = Date.now() + 15_000;
    for (const id of ids) {
      let users: string[] = [];
      await until(async () => (users = (await store.history(id)).filter((h) => h.role === 'user').map((h) => h.text)).length === 3, {
        timeoutMs: Math.max(0, deadline - Date.now()),
        everyMs: 50,
        what: () => `${id}: ${users.length} of 3`,
      });
      expect(users).toEqual(['message 0', 'message 1', 'message 2']);
    }
    for (const w of workers) await w.stop(1000);
  }, 30_000);
});
