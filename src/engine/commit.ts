/** Recording a turn whose reply is already out. */
import { setTimeout as sleep } from 'node:timers/promises';
import { StaleSessionError, type OpenSession, type SessionCommit, type SessionStore } from '../session/store.js';

/** Commit retries for a turn whose reply was posted: 100 ms doubling, about 6 s in all. */
const COMMIT_RETRIES_AFTER_DELIVERY = 6;

/**
 * A store hiccup (a Redis restart, a failover) is waited out for a few seconds: giving up
 * would leave the turn to be redone, and the person would get the reply twice. A stale
 * version is final (someone else wrote).
 */
export async function commitAfterDelivery<S>(store: SessionStore, session: OpenSession<S>, change: SessionCommit<S>): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await store.commit(session, change);
    } catch (err) {
      if (err instanceof StaleSessionError || attempt >= COMMIT_RETRIES_AFTER_DELIVERY) throw err;
      await sleep(100 * 2 ** attempt);
    }
  }
}
