/**
 * The queue for one instance without Redis (and for tests): the same order
 * and burst behaviour as the Redis queue (one turn at a time per session,
 * messages that arrive meanwhile answered together next), without durability.
 */
import { setImmediate, setTimeout as sleep } from 'node:timers/promises';
import { errorCode } from '../util/error-code.js';
import { within } from '../util/within.js';
import { MAX_ATTEMPTS, MAX_BATCH, ORDER_WINDOW_MS, UNAVAILABLE_REASON, countsAsTry, giveUp, nextBatch, orderWaitMs, runBatch, takeBatch, type RunnerDeps } from './turn-runner.js';
import { MemoryTurnMessages } from './turn-message.js';
import { NotQueuedError, type EnqueueResult, type InboxMessage, type QueuedMessage, type TurnQueue } from './turn-queue.js';

export class MemoryTurnQueue implements TurnQueue {
  readonly name = 'in memory';
  private readonly inboxes = new Map<string, InboxMessage[]>();
  private readonly draining = new Map<string, Promise<void>>();
  private readonly seen = new Map<string, number>();
  /** Each session's turn message, kept while its batch is retried (see turn-message.ts). */
  private readonly messages = new MemoryTurnMessages();
  private seq = 0;
  private stopping = false;

  constructor(
    private readonly runner: RunnerDeps,
    private readonly dedupeTtlMs = 2 * 3600_000,
    /** Wait before a failed try is redone. */
    private readonly retryMs = 1000,
  ) {}

  async enqueue(m: QueuedMessage): Promise<EnqueueResult> {
    if (this.stopping) throw new NotQueuedError(); // not stored: the adapter's "try again shortly" is true
    const key = `${m.sessionId}\u0000${m.id}`;
    const now = Date.now();
    if ((this.seen.get(key) ?? 0) > now) return 'duplicate';
    this.seen.set(key, now + this.dedupeTtlMs);
    if (this.seen.size % 1000 === 0) for (const [k, until] of this.seen) if (until <= now) this.seen.delete(k);
    const inbox = this.inboxes.get(m.sessionId) ?? [];
    // Clock-based, like the Redis queue's: above anything a session recorded from an earlier queue.
    this.seq = Math.max(this.seq + 1, Date.now() * 1000);
    insertInOrder(inbox, { ...m, seq: this.seq });
    this.inboxes.set(m.sessionId, inbox);
    if (!this.draining.has(m.sessionId)) {
      // Started on the next turn of the event loop: the adapter's acknowledgement goes out first.
      const run = setImmediate().then(() => this.drain(m.sessionId));
      this.draining.set(m.sessionId, run);
    }
    return 'queued';
  }

  /** Lets running turns finish (up to `timeoutMs`); messages not yet answered are dropped with the process. */
  async stop(timeoutMs = 10_000): Promise<{ unfinished: number }> {
    this.stopping = true;
    await within(Promise.allSettled(this.draining.values()), timeoutMs);
    return { unfinished: [...this.inboxes.values()].reduce((n, i) => n + i.length, 0) };
  }

  /**
   * As the Redis worker does: a try that throws counts like an undelivered reply; after a failed
   * try the head is retried alone (the rest of this drain goes one message at a time); after
   * MAX_ATTEMPTS the head is given up: the person gets the "try again" line, the batch is
   * "parked" as a log line only (no Redis: ids, seqs and the reason, never text; it cannot be
   * replayed), and the session's later messages go on.
   */
  private async drain(sessionId: string): Promise<void> {
    const inbox = this.inboxes.get(sessionId)!;
    let attempts = 0;
    let isolating = false;
    while (inbox.length > 0 && !this.stopping) {
      // As the Redis worker does: messages typed just before these may still be on their way.
      const wait = orderWaitMs(takeBatch(inbox), this.runner.orderWindowMs ?? ORDER_WINDOW_MS);
      if (wait > 0) await sleep(wait);
      const batch = nextBatch(inbox.slice(0, MAX_BATCH), isolating);
      let retry: boolean;
      let reason = UNAVAILABLE_REASON;
      try {
        ({ retry } = await runBatch(this.runner, sessionId, batch, { messages: this.messages }));
      } catch (err) {
        if (!countsAsTry(err)) {
          // A missing outlet: nothing here can post to that platform, now or later.
          this.runner.logger.error({ sessionId, err: errorCode(err) }, 'queued turn failed; its messages are dropped');
          removeAll(inbox, batch);
          this.messages.drop(sessionId);
          attempts = 0;
          continue;
        }
        reason = errorCode(err);
        retry = true;
        if (attempts + 1 < MAX_ATTEMPTS) this.runner.logger.warn({ sessionId, err: reason, attempt: attempts + 1 }, 'queued turn failed; it will be retried');
      }
      if (retry && ++attempts < MAX_ATTEMPTS) {
        isolating = true;
        await sleep(this.retryMs); // try again shortly, in order
        continue;
      }
      if (retry) await giveUp(this.runner, sessionId, batch, { reason, attempts, messages: this.messages }).catch((err: unknown) => this.runner.logger.warn({ sessionId, err: errorCode(err) }, 'the "try again" line could not be posted'));
      removeAll(inbox, batch);
      this.messages.drop(sessionId);
      attempts = 0;
    }
    // Synchronously with the last check of the inbox: a message queued after this starts a new drain.
    this.draining.delete(sessionId);
    if (inbox.length === 0) this.inboxes.delete(sessionId);
  }
}

/**
 * As the Redis ENQUEUE does: after the last message, from the end, whose platform order is
 * not later (or that has none), so the inbox is in the person's order; without an order, at the end.
 */
function insertInOrder(inbox: InboxMessage[], m: InboxMessage): void {
  if (m.order === undefined) return void inbox.push(m);
  let i = inbox.length;
  while (i > 0) {
    const o = inbox[i - 1]!.order;
    if (o === undefined || o <= m.order) break;
    i--;
  }
  inbox.splice(i, 0, m);
}

/** Drops the messages dealt with, wherever they are now (a late one may have been placed before them). */
function removeAll(inbox: InboxMessage[], batch: InboxMessage[]): void {
  const done = new Set(batch);
  for (let i = inbox.length - 1; i >= 0; i--) if (done.has(inbox[i]!)) inbox.splice(i, 1);
}
