/**
 * Chooses the session store from settings: Redis when REDIS_URL,
 * REDIS_CLUSTER_NODES or REDIS_SENTINELS is set (and reachable: an unreachable
 * Redis at start-up is an error, never a silent fallback), else in memory.
 */
import type { Settings } from '../config/settings.js';
import { errorCode } from '../util/error-code.js';
import type { Logger } from '../util/logger.js';
import { MemorySessionStore } from './memory-store.js';
import { openRedis, usesRedis, type OpenRedis } from '../redis/open.js';
import { RedisSessionStore } from './redis/redis-store.js';
import type { SessionStore } from './store.js';

export { usesRedis } from '../redis/open.js';

/** Connects to Redis from settings and returns the store on that connection (no fallback). */
export async function createRedisStore(s: Settings): Promise<RedisSessionStore> {
  return redisStoreOn(await openRedis(s), s);
}

/** The session store on an open connection (the Redis bundle shares it with the other backends). */
export function redisStoreOn(redis: OpenRedis, s: Settings): RedisSessionStore {
  return new RedisSessionStore({
    client: redis.client,
    prefix: s.REDIS_KEY_PREFIX,
    historyMax: s.HISTORY_MAX,
    ttlSeconds: s.SESSION_TTL_DAYS * 86_400,
    lockTtlMs: s.SESSION_LOCK_TTL_MS,
    description: redis.description,
    ...(redis.cipher ? { cipher: redis.cipher } : {}),
  });
}

export async function createSessionStore(s: Settings, logger: Logger): Promise<SessionStore> {
  if (usesRedis(s)) return serveRedisStore(await createRedisStore(s), s, logger);
  return createMemoryStore(s, logger);
}

export function createMemoryStore(s: Settings, logger: Logger): MemorySessionStore {
  logger.info({}, 'no REDIS_URL: using the in-memory session store; sessions are lost on exit');
  return new MemorySessionStore({ historyMax: s.HISTORY_MAX, ttlMs: s.SESSION_TTL_DAYS * 86_400_000 });
}

/** A Redis store as a serving instance runs it: its warnings logged, its active index swept. */
export function serveRedisStore(store: RedisSessionStore, s: Settings, logger: Logger): RedisSessionStore {
  if (!s.HISTORY_ENCRYPTION_KEY) logger.warn({}, 'HISTORY_ENCRYPTION_KEY is not set: message history is stored in Redis as plain text');
  store.onDecodeError = (sessionId, err) =>
    logger.error({ sessionId, err: errorCode(err) }, 'stored session state cannot be decrypted or parsed; the session starts over (is HISTORY_ENCRYPTION_KEY_PREVIOUS missing?)');
  store.startSweeper(); // any instance may sweep: it is idempotent and uses no KEYS
  return store;
}
