/**
 * Builds an engine from validated settings: the one place that decides which
 * implementation stands behind each interface. The storage backends come as one
 * bundle (backends/: in memory, or all on one Redis); retrieval, the LLM responder
 * and moderation are chosen here from settings.
 */
import { join, resolve } from 'node:path';
import type { Analytics } from './analytics/analytics.js';
import { memoryBackends } from './backends/memory-backends.js';
import { redisBackends } from './backends/redis-backends.js';
import { checkConfig } from './config/check.js';
import { ConfigError, loadEngineConfig, loadExchanges, type EngineConfig } from './config/load.js';
import type { Settings } from './config/settings.js';
import { Engine } from './engine/engine.js';
import { composeObservers, type TurnObserver } from './engine/observer.js';
import { formatWait, type LimitSubject, type RateLimits } from './limits/rate-limits.js';
import { Metrics, countDuplicates } from './ops/metrics.js';
import { LiveOverrides } from './overrides/live-overrides.js';
import { StaticConfig, type ConfigSource } from './overrides/variant.js';
import type { RedisTurnQueue } from './queue/redis/redis-turn-queue.js';
import type { MessageLimiter } from './queue/turn-runner.js';
import { FaissRetriever } from './rag/faiss-retriever.js';
import { createEmbedder } from './rag/create-embedder.js';
import type { RedisClient } from './redis/connection.js';
import { usesRedis } from './redis/open.js';
import { LLM_REPROBE_MS, createLlmResponder, createOpenAiClient } from './responder/create-responder.js';
import { fillSlots } from './text/template.js';
import { RiskModel, RiskModelError } from './safety/model/risk-model.js';
import { OpenAiModeration, moderationEnabled } from './safety/moderation.js';
import type { Marks } from './session/marks.js';
import type { AuditEntry } from './backends/backends.js';
import type { AlertQueue } from './safety/alerts/alert-queue.js';
import { AlertRouting, alertDefaultsOf } from './safety/alerts/routing.js';
import type { SessionStore } from './session/store.js';
import type { CheckinQueue } from './checkins/schedule.js';
import { CheckinWorker, type CheckinWorkerOptions } from './checkins/checkin-worker.js';
import { lastActiveOf } from './checkins/last-active.js';
import type { Outlets } from './queue/turn-queue.js';
import type { Logger } from './util/logger.js';

export interface EngineSetup {
  engine: Engine;
  config: EngineConfig;
  store: SessionStore;
  /** The Redis connection the backends share, when they are in Redis (readiness pings it). */
  redis?: RedisClient | undefined;
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
  /** Safety alerts: where they go, the queue they wait in, and the audit trail they are recorded in. */
  alerts: SetupAlerts;
  /** Check-ins people asked for, when the backends can hold them (Redis): the check-in worker delivers them. */
  checkins?: CheckinQueue | undefined;
  /** A check-in worker posting through `outlets` (not started), when there is a schedule; docs/checkins.md. */
  checkinWorker?: ((outlets: Outlets, options?: CheckinTuning) => CheckinWorker) | undefined;
  /** Stops the overrides' subscription, writes the last analytics counts, closes the store. */
  close(): Promise<void>;
}

export interface SetupAlerts {
  routing: AlertRouting;
  queue: AlertQueue;
  audit: (entry: AuditEntry) => Promise<void>;
  /** Set by this process's alert worker: a raised alert is looked at at once, not at the next poll. */
  onRaised?: (() => void) | undefined;
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
  const backends = usesRedis(settings) ? await redisBackends(settings, config, logger) : memoryBackends(settings, config, logger);
  const { store, marks, queue: redisQueue, cache } = backends;
  const metrics = new Metrics({ depth: backends.queueDepth });
  backends.countErrors(metrics.redisError);
  // Dedupe hits counted where the queue reports them, for every adapter that enqueues here.
  const queue = redisQueue ? countDuplicates(redisQueue, metrics) : undefined;
  // Overrides and analytics need Redis: without it, the base config and no counts.
  const overrides = backends.overrideStore ? new LiveOverrides(config, exchanges, backends.overrideStore, logger) : undefined;
  await overrides?.start();
  const configSource = overrides ?? new StaticConfig(config);
  const analytics = backends.analytics;
  const observers = composeObservers(observer, analytics, metrics);
  // Refused messages are counted in metrics, and for their tenant and experiment arms in analytics.
  const limits = countRefusals(backends.rateLimits, configSource, analytics, metrics);
  const limitedReply = (ms: number) => fillSlots(config.responses.system.rate_limited, { wait: formatWait(ms) });
  const responder = await createLlmResponder(settings, config, { budget: limits, cache, logger, onEvent: observers?.llm?.bind(observers) });
  // Asked once now, so the banner and the logs say whether the model will answer (not every turn's warning).
  const reach = await responder?.probe();
  if (reach && reach.state !== 'ok') logger.warn({ llm: reach.state }, `${responder!.name}; asked again every ${LLM_REPROBE_MS / 1000} s`);
  // The responder's key and base URL; one request per check, within MODERATION_TIMEOUT_MS.
  const moderation = moderationEnabled(settings)
    ? new OpenAiModeration({ client: createOpenAiClient(settings), model: settings.MODERATION_MODEL, timeoutMs: settings.MODERATION_TIMEOUT_MS })
    : undefined;
  const routing = new AlertRouting(config.tenants, alertDefaultsOf(settings));
  const alerts: SetupAlerts = { routing, queue: backends.alerts, audit: backends.audit };
  for (const tenant of routing.includingText) logger.warn({ tenant }, "safety alerts for this tenant include the person's message text (tenants.json include_text: true)");
  if (routing.destinations.includes('webhook') && !settings.SAFETY_ALERT_WEBHOOK_SECRET) logger.warn({ setting: 'SAFETY_ALERT_WEBHOOK_SECRET' }, 'safety alert webhooks are sent unsigned: set SAFETY_ALERT_WEBHOOK_SECRET');
  const engine = new Engine({
    config,
    store,
    retriever,
    ...(responder ? { responder } : {}),
    moderation,
    riskModel: loadRiskModel(join(dataDir, 'safety', 'risk_model.json')),
    configSource,
    marks,
    eraseElsewhere: backends.eraseElsewhere,
    // Only where a schedule can be held (Redis); otherwise `settings checkins` says check-ins are unavailable.
    ...(backends.checkins ? { checkins: backends.checkins } : {}),
    alerts: {
      queue: backends.alerts,
      target: (tenant) => routing.target(tenant),
      onRaised: (outcome) => {
        if (outcome === 'queued' || outcome === 'duplicate') metrics.safetyAlert(outcome === 'queued' ? 'raised' : 'duplicate');
        alerts.onRaised?.();
      },
    },
    logger,
    ...(observers ? { observer: observers } : {}),
    options: { maxMessageChars: settings.MAX_MESSAGE_CHARS, logMessageText: settings.LOG_MESSAGE_TEXT === 'true' },
  });
  const close = async () => {
    await overrides?.stop();
    await backends.close();
  };
  return { engine, config, store, redis: backends.redis, marks, queue, limits, limitedReply, overrides, metrics, alerts, checkins: backends.checkins, checkinWorker: checkinWorkerOf(backends.checkins, config, store, marks, metrics, logger), close };
}

/** Tests: a faster poll, a shorter lease, their own clock. */
export type CheckinTuning = Pick<CheckinWorkerOptions, 'pollMs' | 'leaseMs' | 'backoffMs' | 'now'>;

/** The check-in worker's composition: the config's words, the marks, the store, the metrics (docs/checkins.md). */
function checkinWorkerOf(schedule: CheckinQueue | undefined, config: EngineConfig, store: SessionStore, marks: Marks, metrics: Metrics, logger: Logger) {
  if (!schedule) return undefined;
  return (outlets: Outlets, options: CheckinTuning = {}) =>
    new CheckinWorker({ schedule, outlets, message: config.responses.settings.checkin_message, marks, store, lastActive: lastActiveOf(store), logger, onOutcome: metrics.checkin, ...options });
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
