import { Redis } from 'ioredis';

/** A conversation that walks the whole first stage and starts over, so turns visit every substate. */
export const SCRIPT = ['hello', 'work is hectic', 'I want to feel calm and present', 'yes', 'sure', 'that makes sense', 'my boss emails me at night', 'in my chest', "it's tight", 'yes right now', 'when the phone buzzes I tense up', 'ready', 'done', 'lighter', 'reset'];

/** Runs fn for about `seconds` in five slices; returns the median rate (ops/s), which shrugs off a GC pause or a noisy neighbour. */
export function throughput(fn: (i: number) => void, seconds: number): number {
  for (let i = 0; i < 5000; i++) fn(i); // warm-up: let the JIT settle
  const rates: number[] = [];
  let ops = 0;
  for (let slice = 0; slice < 5; slice++) {
    const start = performance.now();
    const end = start + (seconds * 1000) / 5;
    let n = 0;
    while (performance.now() < end) {
      for (let i = 0; i < 1000; i++) fn(ops + i);
      ops += 1000;
      n += 1000;
    }
    rates.push(n / ((performance.now() - start) / 1000));
  }
  return rates.sort((a, b) => a - b)[2]!;
}

/** Closed loop: `concurrency` workers each start their next operation when the last finishes; returns ops/s. */
export async function closedLoop(concurrency: number, seconds: number, op: (worker: number, i: number) => Promise<unknown>): Promise<number> {
  let done = 0;
  const deadline = performance.now() + seconds * 1000;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, w) => {
      for (let i = 0; performance.now() < deadline; i++) {
        await op(w, i);
        done++;
      }
    }),
  );
  return done / ((performance.now() - start) / 1000);
}

/** Deletes a benchmark's keys (SCAN + DEL, never KEYS). */
export async function deletePrefix(url: string, prefix: string): Promise<void> {
  const r = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await r.del(...keys);
    } while (cursor !== '0');
  } finally {
    r.disconnect();
  }
}
