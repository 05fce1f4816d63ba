/**
 * Prometheus metrics for one engine: turns, latency, LLM calls, limits, dedupe,
 * Redis errors and the queue. A `TurnObserver`, so the engine reports to it like
 * to analytics. Each instance owns its registry (not prom-client's global one),
 * so several engines in one process (tests) never collide on metric names.
 *
 * Labels are low-cardinality by construction: platform, turn kind, substate and
 * LLM outcome/reason come from code or the reviewed config. Session and user
 * ids, tenants (an unlisted workspace is named by its id) and text never
 * become labels.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { LlmEvent } from '../responder/llm/llm-event.js';
import type { TurnEvent, TurnObserver } from '../engine/observer.js';
import type { TurnQueue } from '../queue/turn-queue.js';

export interface QueueDepth {
  waiting: number;
  pending: number;
}

/** What a queue worker counts (QueueWorker#stats), read on each scrape. */
export interface WorkerStats {
  reclaimed: number;
  handedBack: number;
}

export interface MetricsOptions {
  /** Queue depth, read on each scrape (RedisTurnQueue#depth); absent: no depth gauge values. */
  depth?: (() => Promise<QueueDepth>) | undefined;
  /** Longest a scrape waits for `depth` (Redis may be down: the scrape must still answer). Default 1 s. */
  depthTimeoutMs?: number;
  /** Process CPU, memory, event loop lag... (prom-client defaults). Default true. */
  processMetrics?: boolean;
}

/** Replies are posted seconds after the message arrived at most, unless a worker died (claim idle ~10-15 s). */
const REPLY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60];
/** Acknowledgement latency: seconds to an hour and more (a responder may be away). */
const ACK_BUCKETS = [10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21_600];
/** A turn without the LLM takes about a millisecond; with it, seconds; the LLM timeout caps it near 30 s. */
const TURN_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const LLM_BUCKETS = [0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60];

/** Label values from config or events are bounded, but an absent one still needs a value. */
const NONE = 'none';

export class Metrics implements TurnObserver {
  readonly registry = new Registry();
  private readonly turns: Counter<'platform' | 'kind' | 'substate'>;
  private readonly turnSeconds: Histogram<'platform' | 'substate'>;
  private readonly crisis: Counter<'platform'>;
  private readonly sessions: Counter<'platform'>;
  private readonly llmRequests: Counter<'outcome' | 'reason'>;
  private readonly llmSeconds: Histogram<'outcome'>;
  private readonly llmTokens: Counter<'kind'>;
  private readonly limited: Counter;
  private readonly dedupe: Counter<'platform'>;
  private readonly redisErrors: Counter;
  private readonly replies: Counter<'platform'>;
  private readonly edge: Counter<'platform' | 'reason'>;
  private readonly processErrors: Counter<'kind'>;
  private readonly replySeconds: Histogram<'platform'>;
  private readonly alerts: Counter<'outcome'>;
  /** Check-ins the person asked for (src/checkins/checkin-worker.ts). */
  private readonly checkins: Counter<'outcome'>;
  private readonly ackSeconds: Histogram;
  private workerStats: (() => WorkerStats) | undefined;

  constructor(opts: MetricsOptions = {}) {
    const registers = [this.registry];
    if (opts.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    this.turns = new Counter({ name: 'trt_turns_total', help: 'Engine turns, by platform, kind (reply, crisis, safety, command, too_long, unavailable) and the substate after the turn', labelNames: ['platform', 'kind', 'substate'], registers });
    this.turnSeconds = new Histogram({ name: 'trt_turn_duration_seconds', help: 'Engine turn duration (crisis check to commit, the reply posted included)', labelNames: ['platform', 'substate'], buckets: TURN_BUCKETS, registers });
    this.crisis = new Counter({ name: 'trt_crisis_referrals_total', help: 'Turns that gave the crisis response with resources', labelNames: ['platform'], registers });
    this.sessions = new Counter({ name: 'trt_sessions_started_total', help: 'Sessions created', labelNames: ['platform'], registers });
    this.llmRequests = new Counter({ name: 'trt_llm_requests_total', help: 'LLM reply attempts by outcome (ok, cached, risk, fallback) and fallback reason', labelNames: ['outcome', 'reason'], registers });
    this.llmSeconds = new Histogram({ name: 'trt_llm_duration_seconds', help: 'LLM reply latency (retries included)', labelNames: ['outcome'], buckets: LLM_BUCKETS, registers });
    this.llmTokens = new Counter({ name: 'trt_llm_tokens_total', help: 'LLM tokens reported by the model, by kind (prompt, completion)', labelNames: ['kind'], registers });
    this.limited = new Counter({ name: 'trt_rate_limited_total', help: 'Messages refused by a rate limit', registers });
    this.dedupe = new Counter({ name: 'trt_dedupe_hits_total', help: 'Platform deliveries of a message already queued (retries, a mention seen twice)', labelNames: ['platform'], registers });
    this.redisErrors = new Counter({ name: 'trt_redis_errors_total', help: 'Errors reported by the Redis connection (disconnects, refused connections)', registers });
    this.edge = new Counter({ name: 'trt_edge_rejected_total', help: 'Requests refused or dropped at an adapter edge, by platform and reason (unsigned, stale_signature, bad_signature, too_large, timeout, unparseable, malformed, ...)', labelNames: ['platform', 'reason'], registers });
    this.processErrors = new Counter({ name: 'trt_process_errors_total', help: 'Errors caught by the last-resort handlers (uncaught_exception, unhandled_rejection)', labelNames: ['kind'], registers });
    this.replies = new Counter({ name: 'trt_replies_total', help: 'Replies posted by queued turns', labelNames: ['platform'], registers });
    this.alerts = new Counter({ name: 'trt_safety_alerts_total', help: 'Safety alert deliveries by outcome: raised (an episode stored once), duplicate (raised again, not stored), sent, retried (a try failed; due again), failed (out of tries), edited (an alert changed to say who took it), reminded (nobody had taken it: said again), remind_failed (a reminder not delivered after every try; the next one is still due)', labelNames: ['outcome'], registers });
    this.checkins = new Counter({ name: 'trt_checkins_total', help: 'Check-ins by outcome: sent, skipped_safety (in the safety state), skipped_recent (wrote in the last hour), skipped_quiet (quiet hours), skipped_late (over an hour late), failed (not posted within the hour), stopped (the DM session expired)', labelNames: ['outcome'], registers });
    this.ackSeconds = new Histogram({ name: 'trt_safety_alert_ack_seconds', help: 'From a safety alert being raised to a responder taking it', buckets: ACK_BUCKETS, registers });
    this.replySeconds = new Histogram({ name: 'trt_reply_latency_seconds', help: 'From the adapter receiving the first message of a turn to its reply being posted', labelNames: ['platform'], buckets: REPLY_BUCKETS, registers });

    const depth = opts.depth;
    const timeoutMs = opts.depthTimeoutMs ?? 1000;
    new Gauge({
      name: 'trt_queue_depth',
      help: 'Queue wake-ups: waiting to be read by a worker, or pending (being worked on)',
      labelNames: ['state'],
      registers,
      // Read at scrape time, so an idle instance costs nothing; a failed or slow read drops the
      // values rather than reporting stale ones or holding up the scrape.
      async collect() {
        this.reset();
        if (!depth) return;
        const d = await withTimeout(depth(), timeoutMs).catch(() => undefined);
        if (!d) return;
        this.set({ state: 'waiting' }, d.waiting);
        this.set({ state: 'pending' }, d.pending);
      },
    });
    const stats = () => this.workerStats?.();
    // The worker keeps its own totals; mirrored here at scrape time (they only ever grow).
    const mirror = (name: string, help: string, pick: (s: WorkerStats) => number) =>
      new Counter({
        name,
        help,
        registers,
        collect() {
          const s = stats();
          this.reset();
          if (s) this.inc(pick(s));
        },
      });
    mirror('trt_queue_takeovers_total', 'Turns this instance took over from a worker that stopped (died) mid-way', (s) => s.reclaimed);
    mirror('trt_queue_handbacks_total', 'Sessions this instance handed to another worker at shutdown', (s) => s.handedBack);
  }

  turn(e: TurnEvent): void {
    const platform = e.platform || NONE;
    const substate = e.substate ?? NONE;
    this.turns.inc({ platform, kind: e.kind, substate });
    this.turnSeconds.observe({ platform, substate }, e.durationMs / 1000);
    if (e.crisisReferral) this.crisis.inc({ platform });
    if (e.newSession) this.sessions.inc({ platform });
  }

  llm(e: LlmEvent): void {
    this.llmRequests.inc({ outcome: e.outcome, reason: e.reason ?? NONE });
    this.llmSeconds.observe({ outcome: e.outcome }, e.latencyMs / 1000);
    if (e.promptTokens) this.llmTokens.inc({ kind: 'prompt' }, e.promptTokens);
    if (e.completionTokens) this.llmTokens.inc({ kind: 'completion' }, e.completionTokens);
  }

  // Arrow properties: these are handed around as callbacks (runner hooks, event listeners).

  /** A message refused by a rate limit. */
  readonly rateLimited = (): void => this.limited.inc();
  /** A platform delivered a message the queue already had. */
  readonly duplicate = (platform: string): void => this.dedupe.inc({ platform });
  /** The Redis connection reported an error. */
  /** A safety alert's delivery step (see the counter's help). */
  readonly safetyAlert = (outcome: 'raised' | 'duplicate' | 'sent' | 'retried' | 'failed' | 'edited' | 'reminded' | 'remind_failed'): void => this.alerts.inc({ outcome });
  /** A check-in handled (see CheckinOutcome). */
  readonly checkin = (outcome: 'sent' | 'skipped_safety' | 'skipped_recent' | 'skipped_quiet' | 'skipped_late' | 'failed' | 'stopped'): void => this.checkins.inc({ outcome });

  /** A safety alert taken by a responder, `seconds` after it was raised. */
  readonly safetyAlertTaken = (seconds: number): void => this.ackSeconds.observe(seconds);

  readonly redisError = (): void => this.redisErrors.inc();
  /** A request refused or dropped at an adapter's edge. */
  readonly edgeRejected = (platform: string, reason: string): void => this.edge.inc({ platform, reason });
  /** An error that reached the process's last-resort handler. */
  readonly processError = (kind: 'uncaught_exception' | 'unhandled_rejection'): void => this.processErrors.inc({ kind });
  /** A queued turn's reply was posted (TurnRunner `onReplied`). */
  readonly replied = (e: { platform: string; latencyMs: number }): void => {
    this.replies.inc({ platform: e.platform });
    this.replySeconds.observe({ platform: e.platform }, Math.max(0, e.latencyMs) / 1000);
  };

  /** Mirrors a queue worker's takeovers and hand-backs (the worker role, or `all` with Redis). */
  watchWorker(stats: () => WorkerStats): void {
    this.workerStats = stats;
  }

  /** The exposition text and its content type, for `/metrics`. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

/**
 * Counts 'duplicate' enqueues on the queue object itself (not a wrapper), so callers keep its
 * class: adapters check `instanceof MemoryTurnQueue` to stop it, the worker needs RedisTurnQueue.
 */
export function countDuplicates<Q extends TurnQueue>(queue: Q, metrics: Pick<Metrics, 'duplicate'>): Q {
  const enqueue = queue.enqueue.bind(queue);
  queue.enqueue = async (m) => {
    const result = await enqueue(m);
    if (result === 'duplicate') metrics.duplicate(m.platform);
    return result;
  };
  return queue;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timeout')), ms);
    timer.unref();
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
