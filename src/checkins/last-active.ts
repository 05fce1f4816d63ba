/**
 * When a person last wrote in a session (epoch ms), for the check-in worker's "wrote in the
 * last hour" rule; undefined when the session no longer exists (it expired or was erased).
 * Redis: the session meta's `last_active`, which only a committed turn writes (a check-in's
 * history note does not), read without opening the history (health data). In memory: the
 * newest of the person's entries in the history.
 */
import { RedisSessionStore } from '../session/redis/redis-store.js';
import type { SessionStore } from '../session/store.js';

export type LastActive = (sessionId: string) => Promise<number | undefined>;

/** How many recent history entries the memory reading looks through. */
const RECENT_ENTRIES = 50;

export function lastActiveOf(store: SessionStore): LastActive {
  if (store instanceof RedisSessionStore) {
    return async (sessionId) => {
      const at = await store.client.hget(store.keys.meta(sessionId), 'last_active');
      return at ? Date.parse(at) : undefined;
    };
  }
  return async (sessionId) => {
    const history = await store.history(sessionId, RECENT_ENTRIES);
    if (history.length === 0) return undefined;
    const mine = history.filter((e) => e.role === 'user');
    return mine.length > 0 ? Date.parse(mine[mine.length - 1]!.at) : 0;
  };
}
