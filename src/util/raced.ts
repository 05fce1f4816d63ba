/**
 * Settles when `work` does or when `signal` aborts, whichever is first. The `openai` client
 * does not watch the signal everywhere (it sleeps between retries; a body can stall after the
 * headers), so callers enforce their deadlines here; the abandoned call sees the aborted
 * signal and stops on its own.
 */
export function raced<T>(work: PromiseLike<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    Promise.resolve(work).catch(() => undefined);
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => (signal.removeEventListener('abort', onAbort), resolve(value)),
      (err: unknown) => (signal.removeEventListener('abort', onAbort), reject(err)),
    );
  });
}
