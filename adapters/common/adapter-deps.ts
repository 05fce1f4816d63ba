/** What every platform adapter is built with (Slack and Discord add a few of their own). */
import type { AlertQueue, Engine, Logger, Marks, MessageLimiter, Metrics, TurnQueue } from '../../src/index.js';

export interface AdapterDeps {
  engine: Pick<Engine, 'handleTurn' | 'texts' | 'crisisResponse'>;
  marks: Marks;
  logger: Logger;
  /** Where messages go; default: an in-process queue answered by the adapter's own outlet. */
  queue?: TurnQueue;
  /** With the default queue: rate limits and the "come back later" line. */
  limits?: MessageLimiter;
  limitedReply?: (retryAfterMs: number) => string;
  /** With the default queue: QUEUE_ORDER_WINDOW_MS (see orderWaitMs). */
  orderWindowMs?: number;
  /** With the default queue: counts its replies and dedupe hits (a given queue counts its own). */
  metrics?: Pick<Metrics, 'replied' | 'duplicate'>;
  /**
   * Counts requests refused or dropped at the adapter's edge (trt_edge_rejected_total), by
   * reason. Method syntax: an adapter narrows `reason` to its own list (Slack's EdgeRejection).
   */
  onEdgeReject?(reason: string): void;
  /**
   * Safety alerts' acknowledgements: the "I'm on it" button on an alert calls this (the first
   * press takes it). Unset: alert buttons are answered as not handled.
   */
  alerts?: Pick<AlertQueue, 'acknowledge'> | undefined;
}
