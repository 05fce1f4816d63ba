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
