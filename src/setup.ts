/**
 * Builds an engine with the default backends from validated settings: the
 * one place that decides which implementation stands behind each interface.
 * Later backends (Redis, FAISS, LLM, moderation) are chosen here from settings too.
 */
import { join, resolve } from 'node:path';
import { checkConfig } from './config/check.js';
import { ConfigError, loadEngineConfig, loadExchanges, type EngineConfig } from './config/load.js';
import type { Settings } from './config/settings.js';
import { Engine } from './engine/engine.js';
import type { TurnObserver } from './engine/observer.js';
import { createEmbedder } from './rag/create-embedder.js';
import { FaissRetriever } from './rag/faiss-retriever.js';
import { createSessionStore } from './session/create-store.js';
import type { SessionStore } from './session/store.js';
import { MemoryMarks, type Marks } from './session/marks.js';
import { RedisMarks } from './session/redis/redis-marks.js';
import { RedisSessionStore } from './session/redis/redis-store.js';
import { watchRedisErrors } from './redis/connection.js';
import type { Logger } from './util/logger.js';
import { MemoryRateLimits, RedisRateLimits, formatWait, type LimitSubject, type RateLimits } from './limits/rate-limits.js';
import { RedisTurnQueue } from './queue/redis/redis-turn-queue.js';
import { DeadLetters } from './queue/redis/dead-letters.js';
import type { MessageLimiter } from './queue/turn-runner.js';
import { fillSlots } from './responder/template.js';
import { createLlmResponder, createOpenAiClient } from './responder/create-responder.js';
import { OpenAiModeration, moderationEnabled } from './safety/moderation.js';
import { RiskModel, RiskModelError } from './safety/model/risk-model.js';
import { RedisCompletionCache } from './responder/llm/completion-cache.js';
import { LiveOverrides } from './overrides/live-overrides.js';
import { RedisOverrideStore } from './overrides/redis-override-store.js';
import { StaticConfig, type ConfigSource } from './overrides/variant.js';
import { RedisAnalytics } from './analytics/redis-analytics.js';
import type { Analytics } from './analytics/analytics.js';
import { composeObservers } from './engine/observer.js';
import { Metrics, countDuplicates } from './ops/metrics.js';

export interface EngineSetup {
  engine: Engine;
  config: EngineConfig;
  store: SessionStore;
  /** Shared expiring flags (dedupe): in Redis when the store is, else in memory. */
  marks: Marks;
  /** The durable turn queue, when the store is in Redis (else adapters queue in process). */
  queue?: RedisTurnQueue | undefined;
  /** Message limits and the LLM budget (config/…/rate_limits.json): in Redis when the store is; messages left unanswered are counted. */
  limits: RateLimits & MessageLimiter;
  /** The friendly line a limited person gets, once per window. */
  limitedReply: (retryAfterMs: number) => string;
  /** Overrides in force (with Redis): live per tenant, experiment and style. */
  overrides?: LiveOverrides | undefined;
  /** Prometheus metrics (its own registry): the engine reports turns and LLM calls to it. */
  metrics: Metrics;
  /** Stops the overrides' subscription, writes the last analytics counts, closes the store. */
  close(): Promise<void>;
}

/**
 * Loads and cross-checks config and data, loads the retrieval index, then wires the engine.
 * Throws ConfigError listing every problem, or IndexMismatchError naming the rebuild command.
 */
export async function createEngine(settings: Settings, logger: Logger, observer?: TurnObserver): Promise<EngineSetup> {
  if (settings.LOG_MESSAGE_TEXT === 'true') {
    logger.warn({ setting: 'LOG_MESSAGE_TEXT' }, 'LOG_MESSAGE_TEXT=true: what people write (health data) goes into the debug logs; never use this in production');
  }
  const configDir = resolve(settings.CONFIG_DIR);
  const dataDir = resolve(settings.DATA_DIR);
  const config = loadEngineConfig(configDir);
  const exchanges = loadExchanges(dataDir);
  const problems = checkConfig(config, exchanges);
  if (problems.length > 0) throw new ConfigError(problems);

  const embedder = createEmbedder(settings.EMBEDDINGS_PROVIDER, config.retrieval, { apiKey: settings.OPENAI_API_KEY, baseURL: settings.OPENAI_BASE_URL });
  const retriever = FaissRetriever.load({ dataDir, exchanges, embedder, retrieval: config.retrieval, logger });
  const store = await createSessionStore(settings, logger);
  const redis = store instanceof RedisSessionStore ? store : undefined;
  const marks = redis ? new RedisMarks(redis.client, settings.REDIS_KEY_PREFIX) : new MemoryMarks();
  const redisQueue = redis ? new RedisTurnQueue({ client: redis.client, prefix: settings.REDIS_KEY_PREFIX, cipher: redis.cipher }) : undefined;
  // Not connected: no depth values (the queue's own read would report zeros), and no wait for a reconnect.
  const depth = redis && redisQueue ? () => (redis.client.status === 'ready' ? redisQueue.depth() : Promise.reject(new Error('Redis not ready'))) : undefined;
  const metrics = new Metrics({ depth });
  redis?.client.on('error', metrics.redisError);
  if (redis) watchRedisErrors(redis.client, logger, 'main');
  // Dedupe hits counted where the queue reports them, for every adapter that enqueues here.
  const queue = redisQueue ? countDuplicates(redisQueue, metrics) : undefined;
  if (redisQueue) {
    redisQueue.onUnannounced = (sessionId) =>
      logger.error({ sessionId }, 'a stored message could not be announced to the workers; it is answered with the next message or wake-up of its session');
  }
  const rateLimits = redis
    ? new RedisRateLimits({ client: redis.client, prefix: settings.REDIS_KEY_PREFIX, config: config.rateLimits, logger })
    : new MemoryRateLimits({ config: config.rateLimits, logger });
  // Overrides and analytics need Redis: without it, the base config and no counts.
  const overrides = redis
    ? new LiveOverrides(config, exchanges, new RedisOverrideStore({ client: redis.client, prefix: settings.REDIS_KEY_PREFIX, audit: (e) => redis.audit(e) }), logger)
    : undefined;
  await overrides?.start();
  const configSource = overrides ?? new StaticConfig(config);
  const analytics = redis ? new RedisAnalytics({ client: redis.client, prefix: settings.REDIS_KEY_PREFIX, logger }) : undefined;
  const observers = composeObservers(observer, analytics, metrics);
  // Refused messages are counted in metrics, and for their tenant and experiment arms in analytics.
  const limits = countRefusals(rateLimits, configSource, analytics, metrics);
  const limitedReply = (ms: number) => fillSlots(config.responses.system.rate_limited, { wait: formatWait(ms) });
  const cache = redis && settings.LLM_CACHE_TTL_SECONDS > 0 ? new RedisCompletionCache(redis.client, redis.keys, redis.cipher, settings.LLM_CACHE_TTL_SECONDS) : undefined;
  const responder = await createLlmResponder(settings, config, { budget: limits, cache, logger, onEvent: observers?.llm?.bind(observers) });
  // The responder's key and base URL; one request per check, within MODERATION_TIMEOUT_MS.
  const moderation = moderationEnabled(settings)
    ? new OpenAiModeration({ client: createOpenAiClient(settings), model: settings.MODERATION_MODEL, timeoutMs: settings.MODERATION_TIMEOUT_MS })
    : undefined;
  const engine = new Engine({
    config,
    store,
    retriever,
    ...(responder ? { responder } : {}),
    moderation,
    riskModel: loadRiskModel(join(dataDir, 'safety', 'risk_model.json')),
    configSource,
    marks,
    // `forget` takes the person's parked dead letters too (their words, kept up to 7 days).
    ...(redisQueue ? { eraseElsewhere: (user: string) => new DeadLetters(redisQueue.redis, redisQueue.keys).removeUser(user) } : {}),
    logger,
    ...(observers ? { observer: observers } : {}),
    options: { maxMessageChars: settings.MAX_MESSAGE_CHARS, logMessageText: settings.LOG_MESSAGE_TEXT === 'true' },
  });
  const close = async () => {
    // Enqueues still being settled get their answer before the connection closes (bounded).
    await redisQueue?.settled(5000);
    await overrides?.stop();
    await analytics?.close();
    await store.close();
  };
  return { engine, config, store, marks, queue, limits, limitedReply, overrides, metrics, close };
}

/**
 * Rate limits that also count each message they leave unanswered (metrics; analytics: for
 * its tenant and experiment arms). The runner reports those through `dropped`: a refused
 * crisis statement or command is still answered and not counted.
 */
function countRefusals(limits: RateLimits, source: ConfigSource, analytics: Analytics | undefined, metrics: Metrics): RateLimits & MessageLimiter {
  return {
    name: limits.name,
    admit: (subject: LimitSubject) => limits.admit(subject),
    dropped: (subject: LimitSubject) => {
      metrics.rateLimited();
      if (!analytics) return;
      const at = subject.userKey.indexOf(':');
      const v = source.variant({ platform: subject.userKey.slice(0, at), userId: subject.userKey.slice(at + 1), tenant: subject.tenant });
      analytics.limited({ tenant: v.tenant, experiments: v.experiments });
    },
    spendTokens: (tokens) => limits.spendTokens(tokens),
    close: () => limits.close?.(),
  };
}

/** The crisis check's trained model; a missing or invalid file stops start-up like bad config, naming the file. */
function loadRiskModel(file: string): RiskModel {
  try {
    return RiskModel.load(file);
  } catch (err) {
    if (err instanceof RiskModelError) throw new ConfigError([{ file, path: '$', message: err.message.slice(file.length + 2) }]);
    throw err;
  }
}
