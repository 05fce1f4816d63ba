/**
 * Waiting in tests. A test waits for what it needs (a reply, a log line, a Redis key, a call
 * a fake recorded) with `until`, which gives up at a deadline: never a fixed sleep, which is
 * too short on a loaded machine and wasted time on an idle one.
 *
 * Two waits are not synchronisation and stay waits, always behind a named constant that says
 * why: a quiet period (a test that asserts nothing more happens waits a while after the last
 * event it can observe), and a scenario's pacing (messages spaced out to overlap a fault, a
 * slow engine). Both use `pause`.
 */

export interface UntilOptions {
  /** Give up after this many ms (default 10 s). */
  timeoutMs?: number;
  /** What is awaited, for the error on timeout; a function is called then (to show the state reached). */
  what?: string | (() => string);
  /** Look again after this many ms (default 10). */
  everyMs?: number;
}

type Truthy<T> = Exclude<T, undefined | null | false | 0 | ''>;

/**
 * Resolves with the first truthy value `probe` returns (it may be async); throws once
 * `timeoutMs` has passed without one. An error thrown by the probe is thrown at once.
 */
export async function until<T>(probe: () => T | Promise<T>, opts: UntilOptions = {}): Promise<Truthy<T>> {
  const { timeoutMs = 10_000, what = 'the condition', everyMs = 10 } = opts;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value as Truthy<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'function' ? what() : what}`);
    await pause(everyMs);
  }
}

/** A wait that is not synchronisation: a quiet period or a scenario's pacing (name the constant passed). */
export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
