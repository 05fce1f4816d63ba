/**
 * Redis session store benchmarks, on a unique key prefix (cleaned up after):
 *  - closed loop: turns/s at 1, 64 and 256 concurrent sessions, beside the
 *    same client's PING throughput at the same concurrency, in the same run;
 *  - open loop: p50/p99 turn latency at an offered 1,000 turns/s over 256 sessions;
 *  - round trips a turn waits on (the store's counter) and commands per turn (INFO commandstats).
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { Engine, RedisSessionStore, type EngineConfig, type Retriever } from '../../src/index.js';
import { SCRIPT, deletePrefix, closedLoop } from './measure.js';
import { percentile } from './synthetic.js';


export interface RedisFigures {
  closedLoop: Array<{ sessions: number; turnsPerSec: number; pingsPerSec: number }>;
  openLoop: { offeredPerSec: number; achievedPerSec: number; p50ms: number; p99ms: number; turns: number };
  roundTripsPerTurn: number;
  commandsPerTurn: number;
}

function newClient(url: string): Redis {
  return new Redis(url, { enableAutoPipelining: false, maxRetriesPerRequest: 1 }); // as the product connects (connection.ts)
}

async function commandCalls(r: Redis): Promise<number> {
  const info = await r.info('commandstats');
  return [...info.matchAll(/calls=(\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);
}

export async function benchRedis(url: string, config: EngineConfig, retriever: Retriever, seconds: number): Promise<RedisFigures> {
  const prefix = `trtbench-${randomBytes(3).toString('hex')}`;
  const client = newClient(url);
  const store = new RedisSessionStore({ client, prefix, lockWaitMs: 30_000 });
  const engine = new Engine({ config, store, retriever });
  const turn = (session: number, i: number) =>
    engine.handleTurn({ sessionId: `bench:${session}`, userId: `u${session}`, platform: 'bench', text: SCRIPT[i % SCRIPT.length]! });
  try {
    const closed: RedisFigures['closedLoop'] = [];
    for (const sessions of [1, 64, 256]) {
      await closedLoop(sessions, 0.5, (w, i) => turn(w, i)); // warm-up
      const turnsPerSec = await closedLoop(sessions, seconds, (w, i) => turn(w, i));
      const pingsPerSec = await closedLoop(sessions, seconds, () => client.ping());
      closed.push({ sessions, turnsPerSec: Math.round(turnsPerSec), pingsPerSec: Math.round(pingsPerSec) });
    }

    // Round trips and commands per turn, on a quiet connection.
    const admin = newClient(url);
    const trips0 = store.roundTrips;
    const calls0 = await commandCalls(admin);
    const n = 200;
    for (let i = 0; i < n; i++) await turn(9999, i);
    const calls = (await commandCalls(admin)) - calls0 - 1; // minus the INFO itself
    const roundTripsPerTurn = (store.roundTrips - trips0) / n;
    admin.disconnect();

    // Open loop: a turn is started every 1 ms whatever the state of earlier ones.
    const offered = 1000;
    const total = offered * Math.max(2, seconds);
    const latencies: number[] = [];
    const started = performance.now();
    const inflight: Array<Promise<void>> = [];
    for (let i = 0; i < total; i++) {
      const due = started + (i * 1000) / offered;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const t0 = performance.now();
      inflight.push(turn(i % 256, Math.floor(i / 256)).then(() => void latencies.push(performance.now() - t0)));
    }
    await Promise.all(inflight);
    const elapsed = (performance.now() - started) / 1000;
    return {
      closedLoop: closed,
      openLoop: { offeredPerSec: offered, achievedPerSec: Math.round(total / elapsed), p50ms: +percentile(latencies, 0.5).toFixed(2), p99ms: +percentile(latencies, 0.99).toFixed(2), turns: total },
      roundTripsPerTurn,
      commandsPerTurn: +(calls / n).toFixed(2),
    };
  } finally {
    await deletePrefix(url, prefix);
    await store.close();
  }
}
