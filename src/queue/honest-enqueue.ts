/**
 * What an adapter does with a received message: queue it, and tell the person the truth
 * when that fails. "Try again" is said only for a message that is certainly not stored
 * (NotQueuedError); one whose fate is unknown gets a line that is true either way; one that
 * was stored is answered by a worker and nothing else is said. A risk statement gets the
 * fixed crisis response at once whenever the queue is in trouble: resources must not wait.
 *
 * Resolves within `ackWithinMs`, so the platform is acknowledged in time (Slack allows 3 s):
 * an enqueue still being settled then goes on in the background and the person is told
 * when its outcome is known.
 */
import { errorCode } from '../util/error-code.js';
import type { Logger } from '../util/logger.js';
import { NotQueuedError, type EnqueueResult, type QueuedMessage, type TurnQueue } from './turn-queue.js';

export interface HonestEnqueueDeps {
  queue: TurnQueue;
  /** Posts a line to the person outside a turn (not awaited by the acknowledgement; failures are the poster's to log). */
  tell(text: string): Promise<unknown>;
  crisisResponse(text: string): string | null;
  texts: { unavailable: string; unsure: string };
  logger: Logger;
}

/** 'pending': not settled within the acknowledgement window; the person is told later if need be. */
export type HonestOutcome = EnqueueResult | 'not_queued' | 'unknown' | 'pending';

export const ACK_WITHIN_MS = 2500;

export async function enqueueHonestly(deps: HonestEnqueueDeps, m: QueuedMessage, ackWithinMs = ACK_WITHIN_MS): Promise<HonestOutcome> {
  const told = { crisis: false };
  const enqueued = deps.queue.enqueue(m).then(
    (r) => r as HonestOutcome,
    (err: unknown) => failed(deps, m, err, told),
  );
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'pending'>((r) => (timer = setTimeout(() => r('pending'), ackWithinMs)));
  const first = await Promise.race([enqueued, late]).finally(() => clearTimeout(timer));
  if (first !== 'pending') return first;
  // Still settling: a risk statement is answered now; the rest waits for the outcome.
  const crisis = deps.crisisResponse(m.text);
  if (crisis) {
    told.crisis = true;
    void deps.tell(crisis).catch(() => undefined);
  }
  return 'pending';
}

/** Says what is true about a message that could not be queued; returns what happened. */
async function failed(deps: HonestEnqueueDeps, m: QueuedMessage, err: unknown, told: { crisis: boolean }): Promise<HonestOutcome> {
  const outcome = err instanceof NotQueuedError ? 'not_queued' : 'unknown';
  deps.logger.error({ sessionId: m.sessionId, err: errorCode(err), outcome }, outcome === 'not_queued' ? 'could not queue a message; the person is asked to send it again' : 'could not tell whether a message was queued');
  const crisis = told.crisis ? null : deps.crisisResponse(m.text);
  // Not awaited: the platform's acknowledgement does not wait for this post.
  void deps.tell(crisis ?? (outcome === 'not_queued' ? deps.texts.unavailable : deps.texts.unsure)).catch(() => undefined);
  return outcome;
}
