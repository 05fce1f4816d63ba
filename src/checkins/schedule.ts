/**
 * Check-ins a person asked for (`settings checkins 18:30`): the schedule the turn writes to.
 * Opt-in only, never on by default; one daily check-in per person, replaced when they change
 * the time and removed by `settings checkins off`, `stop` or erasure. Delivery (a worker,
 * through the platform's outlet, exactly once across instances) is the implementation's.
 */

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
