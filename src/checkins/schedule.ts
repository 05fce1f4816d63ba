/**
 * Check-ins a person asked for (`settings checkins 18:30`): the schedule the turn writes to.
 * Opt-in only, never on by default; one daily check-in per person, replaced when they change
 * the time and removed by `settings checkins off`, `stop` or erasure. Delivery (a worker,
 * through the platform's outlet, exactly once across instances) is the implementation's.
 */
import type { TurnMessage } from '../queue/turn-message.js';

/** Whom a check-in goes to, and where: their direct-message conversation. */
export interface CheckinTarget {
  /** `platform:userId`. */
  userKey: string;
  platform: string;
  userId: string;
  tenant?: string | undefined;
  /** The DM session the check-in is posted in (and whose last activity skips it). */
  sessionId: string;
  /** Where the platform's outlet posts (the queue's replyTo of that DM). */
  replyTo: Record<string, unknown>;
}

export interface CheckinSchedule {
  readonly name: string;
  /** Daily at `time` (`HH:MM`, 24 h) in `timeZone` (IANA), replacing any earlier schedule of the person. */
  set(target: CheckinTarget, time: string, timeZone: string): Promise<void>;
  /** Removes the person's schedule (no error when there is none). */
  clear(userKey: string): Promise<void>;
}

/** A due check-in a worker holds (its lease), from `CheckinQueue.claim`. */
export interface ClaimedCheckin {
  target: CheckinTarget;
  time: string;
  timeZone: string;
  /** The occurrence being delivered (epoch ms it was due), whatever retries or leases moved its score to. */
  occurrence: number;
  /** This claim's fencing token: a settle, retry or record by an older claim (its lease ran out) does nothing. */
  token: number;
  /** Failed posts of this occurrence so far. */
  tries: number;
  /** What an earlier holder of this occurrence posted (it died before settling): go on in it, or it is delivered already. */
  posted?: TurnMessage | undefined;
}

/**
 * The schedule as the check-in worker sees it: every scheduled person once, scored by when
 * their next check-in is due. A claim moves the score to the end of a lease, so a worker that
 * dies holding one leaves it due again when the lease runs out.
 */
export interface CheckinQueue extends CheckinSchedule {
  /** A check-in due at `now` on one of `platforms`, held for `leaseMs`; null when none is due. */
  claim(now: number, leaseMs: number, platforms: readonly string[]): Promise<ClaimedCheckin | null>;
  /** Done with this occurrence (sent or skipped): the next is due at `nextDue`. False when the claim is stale or the schedule was cleared. */
  settle(c: ClaimedCheckin, nextDue: number): Promise<boolean>;
  /** Try this occurrence again at `at` (a post that failed). */
  retry(c: ClaimedCheckin, at: number): Promise<boolean>;
  /** The message posted for this occurrence (before the worker settles): a takeover goes on in it. */
  record(c: ClaimedCheckin, message: TurnMessage): Promise<void>;
  /** When the person's next check-in is due (epoch ms), or undefined when none is scheduled. */
  dueAt(userKey: string): Promise<number | undefined>;
}
