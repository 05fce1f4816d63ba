/**
 * What a test started and must stop, stopped after each test in the reverse order: later things
 * (a bot process) often depend on earlier ones (the fake it talks to, the Redis prefix).
 */
import { afterEach } from 'vitest';

export type Stop = () => Promise<unknown> | void;

/** Registers the afterEach; call at the top level of a test file. Returns `defer(...stops)` (the last deferred runs first). */
export function useStops(): (...stops: Stop[]) => void {
  const stops: Stop[] = [];
  afterEach(async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
  });
  return (...more) => void stops.push(...more);
}
