/**
 * One queued turn, shared by the Redis and in-memory queues: take the leading
 * messages of one person from a session's inbox (a burst that arrived while
 * the previous turn ran), apply the rate limits, answer them together in one
 * engine turn and post the reply through the platform's outlet.
 */
import type { Engine } from '../engine/engine.js';
import type { LimitSubject, RateLimits } from '../limits/rate-limits.js';
import { messageKind } from '../engine/input.js';
import { errorCode } from '../util/error-code.js';
import type { Logger } from '../util/logger.js';
import type { InboxMessage, Outlet, OutletTurn, OutletTurnOptions, Outlets } from './turn-queue.js';
import type { TurnMessage, TurnMessages } from './turn-message.js';

/** Most messages answered in one turn; the rest wait for the next. */
export const MAX_BATCH = 20;
/**
 * Tries at the inbox's head before it is given up (parked as a dead letter with Redis, logged in
 * memory; the person is told to send it again). A turn that throws counts like one whose reply
 * could not be posted. After one failed try the head is retried alone (see nextBatch).
 */
export const MAX_ATTEMPTS = 5;

/**
 * Rate limiting as the runner needs it. `dropped` is told about each message actually left
 * unanswered (a refused crisis statement or command is still answered, so it is not dropped).
 */
export type MessageLimiter = Pick<RateLimits, 'admit'> & { dropped?(subject: LimitSubject): void };

export interface RunnerDeps {
  engine: Pick<Engine, 'handleTurn' | 'crisisResponse' | 'texts'>;
  outlets: Outlets;
  logger: Logger;
  limits?: MessageLimiter | undefined;
  /** The friendly "come back in ..." line for a limited person. */
  limitedReply?: ((retryAfterMs: number) => string) | undefined;
  /** Told when a reply was posted: receive-to-reply latency per turn (metrics, bench). */
  onReplied?: ((event: { platform: string; messages: number; latencyMs: number }) => void) | undefined;
  /** QUEUE_ORDER_WINDOW_MS: see orderWaitMs. Default ORDER_WINDOW_MS. */
  orderWindowMs?: number | undefined;
}

/** Default QUEUE_ORDER_WINDOW_MS. */
export const ORDER_WINDOW_MS = 250;

/**
 * How long to wait before answering `batch`: until the newest of its messages was sent
 * `windowMs` ago by the platform's clock, so that messages typed before it and still on
 * their way (another instance received them) are placed before it and answered with it,
 * in the person's order. Capped at the window: a platform clock ahead of ours cannot hold a
 * turn longer. Messages without a platform time, or sent longer ago, wait nothing.
 */
export function orderWaitMs(batch: InboxMessage[], windowMs: number, now = Date.now()): number {
  let newest = -Infinity;
  for (const m of batch) if (m.sentAt !== undefined && m.sentAt > newest) newest = m.sentAt;
  if (newest === -Infinity) return 0;
  return Math.max(0, Math.min(windowMs, newest + windowMs - now));
}

export interface BatchOutcome {
  /** The sequence numbers dealt with: these messages leave the inbox (unless `retry`). */
  done: number[];
  /** The session store was unreachable: nothing was recorded; keep the messages for a retry. */
  retry: boolean;
}

/** The reason recorded for a batch given up because its turn reported it could not be answered or its reply posted (a turn that threw records its error's code or name instead). */
export const UNAVAILABLE_REASON = 'UNAVAILABLE';

/**
 * The batch for the next try. After a failed try (`isolating`) only the head message is tried,
 * alone: a burst holding one message that makes the turn throw then parks that message only,
 * and the good ones behind it are answered (one by one, until the inbox has been emptied).
 */
export function nextBatch(inbox: InboxMessage[], isolating: boolean): InboxMessage[] {
  const batch = takeBatch(inbox);
  return isolating ? batch.slice(0, 1) : batch;
}

/**
 * Whether a thrown turn counts as a failed try. A missing outlet does not: the message is not
 * at fault, this worker lacks a platform's token (another worker may have it; see docs/queue-dead-letters.md).
 */
export function countsAsTry(err: unknown): boolean {
  return !(err instanceof MissingOutletError);
}

export class MissingOutletError extends Error {
  readonly code = 'NO_OUTLET';
  constructor(platform: string) {
    super(`no outlet for platform "${platform}": this worker lacks that platform's token`);
  }
}

/**
 * Drops a batch that failed MAX_ATTEMPTS times: logged (ids, counts and the reason, never text),
 * and the person asked to send it again if the platform takes it. `deadLetter`: the entry it
 * was parked as (Redis); without one (in memory) this log line is all that is left of it.
 */
export async function giveUp(
  deps: RunnerDeps,
  sessionId: string,
  batch: InboxMessage[],
  detail: { reason?: string; attempts?: number; deadLetter?: string; messages?: TurnMessages } = {},
): Promise<void> {
  const where = detail.deadLetter ? { deadLetter: detail.deadLetter } : { parked: 'log only' };
  deps.logger.error(
    { sessionId, messages: batch.length, seqs: batch.map((m) => m.seq), reason: detail.reason ?? UNAVAILABLE_REASON, attempts: detail.attempts ?? MAX_ATTEMPTS, ...where },
    `queued messages failed ${MAX_ATTEMPTS} times; given up`,
  );
  const outlet = deps.outlets[batch[0]!.platform];
  // The engine's honest "please try again in a moment".
  if (outlet) await say(outlet, batch[0]!, sessionId, deps.engine.texts.unavailable, await turnMessageOf(deps, detail.messages, sessionId, batch[0]!.seq));
}

/**
 * A line outside a turn (a notice): posted through the outlet on its own, into the message an
 * earlier try at this batch left on screen when there is one (a "try again" goes where the
 * "One moment…" was, not under it).
 */
async function say(outlet: Outlet, to: InboxMessage, sessionId: string, text: string, options: OutletTurnOptions = {}): Promise<void> {
  let turn: OutletTurn;
  try {
    turn = outlet.begin(to.replyTo, sessionId, options); // a malformed replyTo may make the outlet throw here
  } catch {
    return;
  }
  await turn.deliver(text).catch(() => false);
  await turn.close().catch(() => undefined);
}

/**
 * The turn's message as recorded by earlier tries at the batch that starts at `head`, and how
 * this try records its own. Without a store (or when it fails) a takeover posts a new message:
 * logged, never fatal.
 */
async function turnMessageOf(deps: RunnerDeps, messages: TurnMessages | undefined, sessionId: string, head: number): Promise<OutletTurnOptions> {
  if (!messages) return {};
  const earlier = await messages.get(sessionId, head).catch((err: unknown) => {
    deps.logger.warn({ sessionId, err: errorCode(err) }, "could not read the turn's message; a new one is posted");
    return undefined;
  });
  const record = async (m: TurnMessage) => {
    // Called as soon as the platform answered the post: this is the window in which a crash
    // leaves a message no takeover knows of (docs/queue.md).
    const started = performance.now();
    try {
      await messages.set(sessionId, head, m);
      deps.logger.debug({ sessionId, shows: m.shows, recordMs: Math.round((performance.now() - started) * 100) / 100 }, "turn's message recorded");
    } catch (err) {
      deps.logger.warn({ sessionId, err: errorCode(err) }, "could not record the turn's message; a takeover would post a new one");
    }
  };
  return { earlier, record };
}

/** The messages one turn answers: the first person's consecutive messages, at most MAX_BATCH. */
export function takeBatch(inbox: InboxMessage[]): InboxMessage[] {
  const first = inbox[0];
  if (!first) return [];
  const batch: InboxMessage[] = [];
  for (const m of inbox) {
    if (m.userId !== first.userId || m.platform !== first.platform || batch.length >= MAX_BATCH) break;
    batch.push(m);
  }
  return batch;
}

/** How a queue runs a batch: the abort signal of a hand-over, and where the turn's message is recorded. */
export interface BatchOptions {
  /** Aborted when the session was handed to another worker (shutdown): nothing more is posted. */
  signal?: AbortSignal | undefined;
  /** The queue's record of each turn's visible message (see turn-message.ts). */
  messages?: TurnMessages | undefined;
}

export async function runBatch(deps: RunnerDeps, sessionId: string, batch: InboxMessage[], options: BatchOptions = {}): Promise<BatchOutcome> {
  const { signal } = options;
  const first = batch[0]!;
  const done = batch.map((m) => m.seq);
  const outlet = deps.outlets[first.platform];
  if (!outlet) throw new MissingOutletError(first.platform);

  const shown = await turnMessageOf(deps, options.messages, sessionId, first.seq);
  const { admitted, limitedFor } = await applyLimits(deps, sessionId, batch);
  if (admitted.length === 0) {
    // Limited: one friendly reply per window (notify), silence for the rest of the burst.
    if (limitedFor !== undefined && deps.limitedReply) await say(outlet, first, sessionId, deps.limitedReply(limitedFor), shown);
    return { done, retry: false };
  }

  const turn = outlet.begin(first.replyTo, sessionId, shown);
  let retry = true; // a turn that throws is redone: its message stays for the next try
  try {
    const result = await handleOrCrisis(deps, turn, admitted, signal, () => deps.engine.handleTurn(
      {
        sessionId,
        userId: first.userId,
        platform: first.platform,
        tenant: first.tenant,
        text: '',
        parts: admitted.map((m) => ({ seq: m.seq, text: m.text, ...(m.order !== undefined ? { order: m.order } : {}) })),
        // The head message is the same on every try at this batch: a safety alert's episode is derived from it.
        origin: { replyTo: first.replyTo, messageId: first.id },
        ...(first.platformCountry ? { platformCountry: first.platformCountry } : {}),
        ...(first.platformTimeZone ? { platformTimeZone: first.platformTimeZone } : {}),
        ...(first.direct !== undefined ? { direct: first.direct } : {}),
      },
      { deliver: (reply) => turn.deliver(reply), ...(turn.preview ? { preview: (t: string) => turn.preview!(t) } : {}), ...(signal ? { signal } : {}) },
    ));
    switch (result.outcome) {
      case 'redo':
        // Nothing recorded: the messages stay queued for a retry. A crisis statement (or a possible
        // one: the check-in carries the same lines) is answered now all the same (resources must
        // not wait for storage); the retry may repeat it.
        if ((result.kind === 'crisis' || result.kind === 'check_in') && result.reply && !signal?.aborted) await turn.deliver(result.reply);
        return { done, retry: true };
      case 'answered':
        // An engine that answered without calling deliver is posted here.
        if (!result.delivered) await turn.deliver(result.reply);
        deps.onReplied?.({ platform: first.platform, messages: admitted.length, latencyMs: Date.now() - admitted[0]!.receivedAt });
        break;
      case 'record_failed': // the reply is out: redoing the turn would answer twice
      case 'ignored':
        break;
      default:
        return unreachable(result);
    }
    retry = false;
    if (limitedFor !== undefined && deps.limitedReply) await turn.deliver(deps.limitedReply(limitedFor));
    return { done, retry: false };
  } finally {
    await turn.close({ keep: retry }).catch((err: unknown) => deps.logger.warn({ sessionId, err: errorCode(err) }, 'outlet close failed'));
  }
}

/**
 * Runs the turn; when it throws (a malformed field, a bug), a risk statement among the messages
 * still gets the crisis response at once, as on the store-unavailable path (the retry may repeat
 * it), and the error goes on to the queue, which counts it as a failed try.
 */
async function handleOrCrisis<T>(deps: RunnerDeps, turn: OutletTurn, batch: InboxMessage[], signal: AbortSignal | undefined, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    let crisis: string | null = null;
    try {
      crisis = deps.engine.crisisResponse(batch.map((m) => m.text).join('\n'));
    } catch {
      // the same malformed field: nothing to assess
    }
    if (crisis && !signal?.aborted) await turn.deliver(crisis).catch(() => false);
    throw err;
  }
}

/**
 * Never limited: a risk statement (the crisis response must always go out) and the
 * commands with the "yes" that confirms `forget` (help carries the crisis lines; erasure
 * is a right, and a limited person must still be able to ask for it).
 */
function exempt(deps: RunnerDeps, text: string): boolean {
  return deps.engine.crisisResponse(text) !== null || messageKind(text) !== 'message';
}

/**
 * Counts each message against the limits. A refused message is dropped, except the
 * exempt ones above. `limitedFor` is set (ms until
 * the person may write again) when the person should be told, once per window.
 */
async function applyLimits(deps: RunnerDeps, sessionId: string, batch: InboxMessage[]) {
  if (!deps.limits) return { admitted: batch, limitedFor: undefined };
  // A risk statement spread over several messages is admitted whole: nothing of it is dropped.
  if (batch.length > 1 && deps.engine.crisisResponse(batch.map((m) => m.text).join('\n'))) return { admitted: batch, limitedFor: undefined };
  const admitted: InboxMessage[] = [];
  let limitedFor: number | undefined;
  for (const m of batch) {
    const subject = { userKey: `${m.platform}:${m.userId}`, sessionId, tenant: m.tenant };
    const decision = await deps.limits.admit(subject);
    if (decision.allowed || exempt(deps, m.text)) {
      admitted.push(m);
      continue;
    }
    deps.limits.dropped?.(subject);
    if (decision.notify) limitedFor = decision.retryAfterMs;
  }
  if (admitted.length < batch.length) deps.logger.info({ sessionId, dropped: batch.length - admitted.length }, 'rate limited');
  return { admitted, limitedFor };
}

function unreachable(result: never): never {
  throw new Error(`unknown turn outcome: ${(result as { outcome: string }).outcome}`);
}
