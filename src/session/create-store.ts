/**
 * Chooses the session store from settings: Redis when REDIS_URL,
 * REDIS_CLUSTER_NODES or REDIS_SENTINELS is set (and reachable: an unreachable
 * Redis at start-up is an error, never a silent fallback), else in memory.
 */
import type { Settings } from '../config/settings.js';
import { errorCode } from '../util/error-code.js';
import type { Logger } from '../util/logger.js';
import { AesGcmCipher, parseKey } from '../redis/cipher.js';
import { MemorySessionStore } from './memory-store.js';
import { connectRedis, createRedisClient, describeRedis } from '../redis/connection.js';
import { RedisSessionStore } from './redis/redis-store.js';
import { StoreUnavailableError, type SessionStore } from './store.js';

export function usesRedis(s: Settings): boolean {
  return Boolean(s.REDIS_URL || s.REDIS_CLUSTER_NODES || s.REDIS_SENTINELS);
}

/** Connects to Redis from settings and returns the store (no fallback). */
export async function createRedisStore(s: Settings): Promise<RedisSessionStore> {
  const conn = { url: s.REDIS_URL, clusterNodes: s.REDIS_CLUSTER_NODES, sentinels: s.REDIS_SENTINELS, sentinelName: s.REDIS_SENTINEL_NAME, commandTimeoutMs: s.REDIS_COMMAND_TIMEOUT_MS };
  const where = describeRedis(conn);
  const client = createRedisClient(conn);
  let lastError: { code?: string; message?: string } | undefined;
  client.on('error', (err: { code?: string; message?: string }) => (lastError = err)); // reconnection is automatic; failures surface per command
  try {
    await connectRedis(client);
  } catch (err) {
    client.disconnect();
    const cause = lastError ?? (err as { code?: string; message?: string });
    const reason = (cause.code ?? cause.message ?? 'unknown error').replace(/\.+$/, '');
    throw new StoreUnavailableError(`Cannot reach ${where}: ${reason}. Check REDIS_URL / REDIS_CLUSTER_NODES / REDIS_SENTINELS, or unset them to keep sessions in memory.`, { cause: err });
  }
  const cipher = s.HISTORY_ENCRYPTION_KEY
    ? new AesGcmCipher(parseKey(s.HISTORY_ENCRYPTION_KEY, 'HISTORY_ENCRYPTION_KEY'), s.HISTORY_ENCRYPTION_KEY_PREVIOUS ? [parseKey(s.HISTORY_ENCRYPTION_KEY_PREVIOUS, 'HISTORY_ENCRYPTION_KEY_PREVIOUS')] : [])
    : undefined;
  return new RedisSessionStore({
    client,
    prefix: s.REDIS_KEY_PREFIX,
    historyMax: s.HISTORY_MAX,
    ttlSeconds: s.SESSION_TTL_DAYS * 86_400,
    lockTtlMs: s.SESSION_LOCK_TTL_MS,
    description: where,
    ...(cipher ? { cipher } : {}),
  });
}

export async function createSessionStore(s: Settings, logger: Logger): Promise<SessionStore> {
  if (usesRedis(s)) {
    const store = await createRedisStore(s);
    if (!s.HISTORY_ENCRYPTION_KEY) logger.warn({}, 'HISTORY_ENCRYPTION_KEY is not set: message history is stored in Redis as plain text');
    store.onDecodeError = (sessionId, err) =>
      logger.error({ sessionId, err: errorCode(err) }, 'stored session state cannot be decrypted or parsed; the session starts over (is HISTORY_ENCRYPTION_KEY_PREVIOUS missing?)');
    store.startSweeper(); // any instance may sweep: it is idempotent and uses no KEYS
    return store;
  }
  logger.info({}, 'no REDIS_URL: using the in-memory session store; sessions are lost on exit');
  return new MemorySessionStore({ historyMax: s.HISTORY_MAX, ttlMs: s.SESSION_TTL_DAYS * 86_400_000 });
}
