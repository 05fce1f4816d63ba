/**
 * Posting replies to Slack. The WebClient is built with rejectRateLimitedCalls,
 * because its own 429 handling pauses its whole request queue (every session);
 * here only the call that got the 429 waits Retry-After and tries again. A reply
 * that still cannot be posted is logged with its session id (never its text)
 * and redelivered later with backoff.
 */
import type { WebClient } from '@slack/web-api';
import { errorCode } from '../../src/index.js';
import type { Logger } from '../../src/index.js';
import type { SlackPlace } from './conversation.js';
import { splitMessage, toMrkdwn } from './mrkdwn.js';

const RATE_LIMITED = 'slack_webapi_rate_limited_error';
/** Longest piece posted: Slack renders up to ~4,000 characters well. */
export const SLACK_MAX = 3500;

export interface DeliveryOptions {
  logger: Logger;
  /** 429 retries per call. Default 5. */
  rateLimitRetries?: number;
  /** Delays before redelivering an undelivered reply. Default 2 s, 10 s, 60 s. */
  redeliverDelaysMs?: number[];
  /** Told when a redelivery succeeds: the session's history notes the reply went out late. */
  onLateDelivery?: (sessionId: string) => void;
}

export interface ReplyOptions {
  /** The message (a placeholder or preview) the first piece replaces. */
  into?: string | undefined;
  queued?: boolean;
  shown?: boolean;
  firstPosted?: ((ts: string) => Promise<void>) | undefined;
}

export class SlackDelivery {
  private readonly logger: Logger;
  private readonly retries: number;
  private readonly delays: number[];
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;
  private readonly onLateDelivery: ((sessionId: string) => void) | undefined;

  constructor(opts: DeliveryOptions) {
    this.onLateDelivery = opts.onLateDelivery;
    this.logger = opts.logger;
    this.retries = opts.rateLimitRetries ?? 5;
    this.delays = opts.redeliverDelaysMs ?? [2000, 10_000, 60_000];
  }

  /** Runs one Web API call; on 429 only this call waits Retry-After and retries. */
  async call<T>(sessionId: string, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        const e = err as { code?: string; retryAfter?: number };
        if (e.code !== RATE_LIMITED || attempt >= this.retries) throw err;
        this.logger.warn({ sessionId, retryAfter: e.retryAfter }, 'Slack rate limit; retrying this call after Retry-After');
        await new Promise((r) => setTimeout(r, Math.max(0, e.retryAfter ?? 1) * 1000));
      }
    }
  }

  /**
   * Posts a reply (Markdown), split into pieces; the first replaces `into` when given.
   * `queued`: the caller (the turn queue) redoes the whole turn when nothing was posted, so
   * only the rest of a partly posted reply is redelivered from here.
   * `shown`: `into` already shows part of this reply (a streaming preview). The person
   * has read something, so a failed update counts as partly posted: true, and the whole reply
   * is redelivered from here (into that message), since redoing the turn would answer twice.
   * `firstPosted`: awaited with the ts of the message holding the first piece, once it is up.
   */
  async reply(client: WebClient, place: SlackPlace, text: string, options: ReplyOptions = {}): Promise<boolean> {
    return this.deliver(client, place, splitMessage(toMrkdwn(text), SLACK_MAX), options.into, 0, options);
  }

  /**
   * A streaming preview's call failed: logged (code only, never text) and dropped; previews are
   * not retried, the next one or the final reply covers it. Returns ms to hold off further
   * previews: the Retry-After of a rate limit, else 0.
   */
  previewFailed(sessionId: string, err: unknown): number {
    const e = err as { code?: string; retryAfter?: number; data?: { error?: string } };
    if (e.code === RATE_LIMITED) {
      this.logger.warn({ sessionId, retryAfter: e.retryAfter }, 'Slack rate limit on a reply preview; preview dropped');
      return Math.max(1, e.retryAfter ?? 1) * 1000;
    }
    this.logger.warn({ sessionId, err: e.data?.error ?? errorCode(err) }, 'Slack reply preview failed; preview dropped');
    return 0;
  }

  private async deliver(client: WebClient, place: SlackPlace, pieces: string[], into: string | undefined, attempt: number, options: ReplyOptions = {}): Promise<boolean> {
    const { queued = false, shown = false } = options;
    let sent = 0;
    try {
      for (const [i, piece] of pieces.entries()) {
        if (i === 0 && into) {
          await this.call(place.sessionId, () => client.chat.update({ channel: place.channel, ts: into, text: piece }));
          if (attempt === 0) await options.firstPosted?.(into);
        } else {
          const posted = await this.call(place.sessionId, () =>
            client.chat.postMessage({ channel: place.channel, text: piece, ...(place.threadTs ? { thread_ts: place.threadTs } : {}) }),
          );
          if (i === 0 && attempt === 0 && posted.ts) await options.firstPosted?.(posted.ts);
        }
        sent++;
      }
      if (attempt > 0) this.onLateDelivery?.(place.sessionId);
      return true;
    } catch (err) {
      const code = (err as { data?: { error?: string } }).data?.error ?? errorCode(err); // Slack's own error name first
      if (queued && sent === 0 && !shown) {
        this.logger.error({ sessionId: place.sessionId, err: code }, 'Slack reply not delivered; the turn stays queued');
        return false;
      }
      const delay = this.delays[attempt];
      this.logger.error({ sessionId: place.sessionId, err: code, piecesSent: sent, redeliverInMs: delay ?? null }, 'Slack reply not delivered');
      if (delay !== undefined && !this.stopped) {
        const rest = pieces.slice(sent);
        // Nothing sent over a preview: the first piece still belongs in the preview message.
        const next = sent === 0 && shown ? into : undefined;
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          void this.deliver(client, place, rest, next, attempt + 1);
        }, delay);
        this.timers.add(timer);
      }
      return sent > 0 || shown; // partly posted: the person has the start, the rest follows
    }
  }

  /** Cancels pending redeliveries (shutdown). */
  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
