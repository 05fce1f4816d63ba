/**
 * The durable queue's cost: simulated users send messages at a fixed offered
 * rate (open loop) into two in-process instances sharing one Redis (each with
 * its own connections, engine, queue and worker). Latency runs from receive
 * (enqueue) to reply posted (the outlet's deliver). The direct path (the same
 * engines calling handleTurn as messages arrive, no queue) runs in the same
 * invocation, in alternating rounds, so both see the same machine.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { Engine, QueueWorker, RedisSessionStore, RedisTurnQueue, silentLogger, type EngineConfig, type Outlet, type Retriever } from '../../src/index.js';
import { SCRIPT, deletePrefix } from './measure.js';
import { percentile } from './synthetic.js';

export interface QueueFigures {
  offeredPerSec: number;
  users: number;
  direct: { messages: number; achievedPerSec: number; p50ms: number; p99ms: number };
  queued: { messages: number; achievedPerSec: number; p50ms: number; p99ms: number };
  addedP50ms: number;
  addedP99ms: number;
}

const USERS = 512;

function newClient(url: string): Redis {
  return new Redis(url, { enableAutoPipelining: false, maxRetriesPerRequest: 1 }); // as the product connects (connection.ts)
}

export async function benchQueue(url: string, config: EngineConfig, retriever: Retriever, seconds: number, offered = 500): Promise<QueueFigures> {
  const prefix = `trtbench-${randomBytes(3).toString('hex')}`;
  const sentAt = new Map<string, number>();
  let latencies: number[] = [];
  const outlet: Outlet = {
    begin: (replyTo) => ({
      deliver: async () => {
        const t0 = sentAt.get(String(replyTo.id));
        if (t0 !== undefined) latencies.push(performance.now() - t0);
        return true;
      },
      close: async () => undefined,
    }),
  };
  const instances = [0, 1].map(() => {
    const client = newClient(url);
    const store = new RedisSessionStore({ client, prefix, lockWaitMs: 30_000 });
    const engine = new Engine({ config, store, retriever });
    const queue = new RedisTurnQueue({ client, prefix });
    const worker = new QueueWorker({ queue, reader: newClient(url), runner: { engine, outlets: { bench: outlet }, logger: silentLogger }, logger: silentLogger });
    return { client, store, engine, queue, worker };
  });
  for (const i of instances) await i.worker.start();

  let n = 0;
  /** Offers `total` messages at `offered`/s; each user's next message goes to alternating instances. */
  async function round(mode: 'direct' | 'queued', total: number) {
    latencies = [];
    const inflight: Array<Promise<unknown>> = [];
    const started = performance.now();
    for (let k = 0; k < total; k++, n++) {
      const due = started + (k * 1000) / offered;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const user = n % USERS;
      const id = `m${n}`;
      const text = SCRIPT[Math.floor(n / USERS) % SCRIPT.length]!;
      const inst = instances[n % 2]!;
      const sessionId = `bench:${mode}:${user}`;
      sentAt.set(id, performance.now());
      if (mode === 'queued') {
        inflight.push(inst.queue.enqueue({ id, sessionId, userId: `u${user}`, platform: 'bench', text, replyTo: { id }, receivedAt: Date.now() }));
      } else {
        const t0 = performance.now();
        inflight.push(inst.engine.handleTurn({ sessionId, userId: `u${user}`, platform: 'bench', text }, { deliver: async () => void latencies.push(performance.now() - t0) }));
      }
    }
    await Promise.all(inflight);
    const deadline = performance.now() + 30_000;
    while (latencies.length < total && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    return { latencies, elapsed: (performance.now() - started) / 1000 };
  }

  try {
    const rounds = 4;
    const per = Math.max(200, Math.round((offered * seconds) / rounds));
    await round('direct', 200); // warm-up both paths
    await round('queued', 200);
    const direct: number[] = [];
    const queued: number[] = [];
    let directSeconds = 0;
    let queuedSeconds = 0;
    for (let r = 0; r < rounds; r++) {
      const d = await round('direct', per);
      direct.push(...d.latencies);
      directSeconds += d.elapsed;
      const q = await round('queued', per);
      queued.push(...q.latencies);
      queuedSeconds += q.elapsed;
    }
    const figures = (l: number[], s: number) => ({ messages: l.length, achievedPerSec: Math.round(l.length / s), p50ms: +percentile(l, 0.5).toFixed(2), p99ms: +percentile(l, 0.99).toFixed(2) });
    const d = figures(direct, directSeconds);
    const q = figures(queued, queuedSeconds);
    return { offeredPerSec: offered, users: USERS, direct: d, queued: q, addedP50ms: +(q.p50ms - d.p50ms).toFixed(2), addedP99ms: +(q.p99ms - d.p99ms).toFixed(2) };
  } finally {
    for (const i of instances) await i.worker.stop(1000);
    await deletePrefix(url, prefix);
    for (const i of instances) await i.store.close();
  }
}
