/**
 * The backends one instance runs on, built together: in memory (one process, nothing
 * survives it) or on one Redis (shared by every instance, durable). setup.ts picks the
 * bundle once; nothing else asks which kind it has.
 */
import type { Analytics } from '../analytics/analytics.js';
import type { RateLimits } from '../limits/rate-limits.js';
import type { Logger } from '../util/logger.js';
import type { OverrideStore } from '../overrides/override-store.js';
import type { RedisTurnQueue } from '../queue/redis/redis-turn-queue.js';
import type { CompletionCache } from '../responder/llm/completion-cache.js';
import type { RedisClient } from '../redis/connection.js';
import type { AlertQueue } from '../safety/alerts/alert-queue.js';
import type { CheckinQueue } from '../checkins/schedule.js';
import type { Marks } from '../session/marks.js';
import type { SessionStore } from '../session/store.js';

export interface Backends {
  /** The one Redis connection every backend here shares (readiness pings it); none in memory. */
  redis?: RedisClient | undefined;
  store: SessionStore;
  /** Shared expiring flags (dedupe, threads, person-level safety). */
  marks: Marks;
  /** Message limits and the LLM budget. */
  rateLimits: RateLimits;
  /** The durable turn queue (Redis only: in memory each adapter queues in process). */
  queue?: RedisTurnQueue | undefined;
  /** Live overrides' storage (Redis only: in memory, the base config is all there is). */
  overrideStore?: OverrideStore | undefined;
  /** Per-tenant and per-experiment counts (Redis only). */
  analytics?: (Analytics & { close(): Promise<void> }) | undefined;
  /** LLM answers cached per session (Redis only, when LLM_CACHE_TTL_SECONDS > 0). */
  cache?: CompletionCache | undefined;
  /** What else to erase when a person confirms `forget` (their dead letters). */
  eraseElsewhere?: ((userKey: string) => Promise<unknown>) | undefined;
  /** Safety alerts waiting to be sent, and their acknowledgements (durable in Redis; this process only in memory). */
  alerts: AlertQueue;
  /** Check-ins people asked for (Redis only: delivered by the workers, which need the shared schedule). */
  checkins?: CheckinQueue | undefined;
  /** The audit trail (Redis: the `<p>:audit` stream; in memory: the log, at info level). Never message text. */
  audit: (entry: AuditEntry) => Promise<void>;
  /** Queue depth for the metrics, read at scrape time. */
  queueDepth?: (() => Promise<{ waiting: number; pending: number }>) | undefined;
  /** Hooks the connection's errors to a counter (metrics). */
  countErrors(count: () => void): void;
  /** Finishes what is in flight (enqueues being settled, counts not yet written) and closes the connection. */
  close(): Promise<void>;
}

/** One audit entry: who, what, which (ids, never text). */
export type AuditEntry = { actor: string; action: string; target: string; [field: string]: string };

export type { Logger };
