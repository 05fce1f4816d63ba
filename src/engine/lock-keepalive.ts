/** Keeps a session lock alive while a slow step (an LLM call) runs, so no other instance enters. */
import type { OpenSession, SessionStore } from '../session/store.js';
import type { Logger } from '../util/logger.js';

/** Longest a turn may keep extending its session lock (a slow LLM call stays well under this). */
const MAX_LOCK_EXTENSION_MS = 60_000;

export async function withLockKeptAlive<T>(store: SessionStore, session: OpenSession<unknown>, logger: Logger, fn: () => Promise<T>): Promise<T> {
  if (!store.extend) return fn();
  // Bounded: a step that never returns must not hold the session for ever; after this the
  // lock lapses and the version check on commit still prevents a lost update.
  const until = Date.now() + MAX_LOCK_EXTENSION_MS;
  const timer = setInterval(() => {
    if (Date.now() > until) return clearInterval(timer);
    store.extend!(session).then(
      (held) => held || logger.warn({ sessionId: session.sessionId }, 'session lock lost during a turn; the commit will detect any conflict'),
      () => undefined,
    );
  }, store.lockRenewMs ?? 3000);
  try {
    return await fn();
  } finally {
    clearInterval(timer);
  }
}
