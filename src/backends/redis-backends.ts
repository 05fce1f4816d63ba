/**
 * Every backend on one Redis connection (REDIS_URL, REDIS_CLUSTER_NODES or REDIS_SENTINELS),
 * shared by every instance: sessions, marks, the durable queue, rate limits, overrides,
 * analytics and the LLM cache, all under REDIS_KEY_PREFIX, the text sealed with one cipher.
 */
import { RedisAnalytics } from '../analytics/redis-analytics.js';
import type { EngineConfig } from '../config/load.js';
import type { Settings } from '../config/settings.js';
import { RedisRateLimits } from '../limits/rate-limits.js';
import { RedisOverrideStore } from '../overrides/redis-override-store.js';
import { DeadLetters } from '../queue/redis/dead-letters.js';
import { RedisTurnQueue } from '../queue/redis/redis-turn-queue.js';
import { plainText } from '../redis/cipher.js';
import { watchRedisErrors } from '../redis/connection.js';
import { openRedis } from '../redis/open.js';
import { RedisCompletionCache } from '../responder/llm/completion-cache.js';
import { redisStoreOn, serveRedisStore } from '../session/create-store.js';
import { RedisMarks } from '../session/redis/redis-marks.js';
import type { Logger } from '../util/logger.js';
import type { AuditEntry, Backends } from './backends.js';
import { RedisAlertQueue } from '../safety/alerts/redis-alert-queue.js';
import { RedisCheckinSchedule } from '../checkins/redis-checkin-schedule.js';

/** Longest wait at shutdown for enqueues still being settled (their outcome is then told). */
const SETTLE_AT_CLOSE_MS = 5000;

export async function redisBackends(settings: Settings, config: EngineConfig, logger: Logger): Promise<Backends> {
  const redis = await openRedis(settings);
  const { client, cipher } = redis;
  const prefix = settings.REDIS_KEY_PREFIX;
  const store = serveRedisStore(redisStoreOn(redis, settings), settings, logger);
  watchRedisErrors(client, logger, 'main');
  const queue = new RedisTurnQueue({ client, prefix, ...(cipher ? { cipher } : {}) });
  queue.onUnannounced = (sessionId) =>
    logger.error({ sessionId }, 'a stored message could not be announced to the workers; it is answered with the next message or wake-up of its session');
  const deadLetters = new DeadLetters(queue.redis, queue.keys);
  const analytics = new RedisAnalytics({ client, prefix, logger });
  const audit = (e: AuditEntry) => store.audit(e);
  const alerts = new RedisAlertQueue({ client, prefix, ...(cipher ? { cipher } : {}), audit });
  const checkins = new RedisCheckinSchedule(client, prefix); // check-ins: docs/checkins.md
  return {
    redis: client,
    store,
    marks: new RedisMarks(client, prefix),
    rateLimits: new RedisRateLimits({ client, prefix, config: config.rateLimits, logger }),
    queue,
    overrideStore: new RedisOverrideStore({ client, prefix, audit: (e) => store.audit(e) }),
    analytics,
    cache: settings.LLM_CACHE_TTL_SECONDS > 0 ? new RedisCompletionCache(client, store.keys, cipher ?? plainText, settings.LLM_CACHE_TTL_SECONDS) : undefined,
    alerts,
    checkins,
    audit,
    // `forget` takes the person's parked dead letters too (their words, kept up to 7 days), and any
    // words an alert carried (include_text); the alerts themselves stay: someone may be reaching out.
    // Their check-in schedule goes too: erasure stops check-ins for good.
    eraseElsewhere: (user) => Promise.all([deadLetters.removeUser(user), alerts.forgetText(user), checkins.clear(user)]),
    // Not connected: no depth values (the queue's own read would report zeros), and no wait for a reconnect.
    queueDepth: () => (client.status === 'ready' ? queue.depth() : Promise.reject(new Error('Redis not ready'))),
    countErrors: (count) => void client.on('error', count),
    async close() {
      await queue.settled(SETTLE_AT_CLOSE_MS);
      await analytics.close();
      await store.close(); // closes the connection
    },
  };
}
