/**
 * Housekeeping of the workers' consumer group: a consumer leaves it when its worker stops
 * (unless wake-ups are pending with it), and consumers left by crashed processes are pruned,
 * so the group's list does not grow with every crash.
 */
import { GROUP } from './queue-keys.js';
import { fields, type RedisTurnQueue } from './redis-turn-queue.js';

/** Removes `consumer` from the group, unless wake-ups are pending with it: those must stay claimable. */
export async function forgetConsumer(q: RedisTurnQueue, consumer: string): Promise<void> {
  try {
    const pending = (await q.redis.xpending(q.keys.stream, GROUP, '-', '+', 1, consumer)) as unknown[];
    if (pending.length === 0) await q.redis.xgroup('DELCONSUMER', q.keys.stream, GROUP, consumer);
  } catch {
    // Redis unreachable: the consumer stays; its wake-ups are claimed when idle.
  }
}

/**
 * Removes consumers with nothing pending that have been idle over `idleMs` (left by crashed
 * processes; their wake-ups were claimed already), never `self`. Throws what Redis throws.
 */
export async function pruneConsumers(q: RedisTurnQueue, self: string, idleMs: number): Promise<void> {
  const consumers = (await q.redis.xinfo('CONSUMERS', q.keys.stream, GROUP)) as unknown[][];
  for (const c of consumers) {
    const f = fields(c);
    if (Number(f.pending) === 0 && Number(f.idle) > idleMs && f.name !== self) {
      await q.redis.xgroup('DELCONSUMER', q.keys.stream, GROUP, String(f.name));
    }
  }
}
