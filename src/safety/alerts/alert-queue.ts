/**
 * The alert queue: what makes "exactly one alert per episode, never lost" hold across
 * instances, retries and crashes. `raise` stores the alert once per episode (a second raise of
 * the same episode, from a redone turn or another instance, is a `duplicate`) and queues one
 * job per destination; workers on any instance `claim` a due job under a lease, post it, and
 * settle it (`done`), put it back with backoff (`retry`) or give up (`fail`). A worker that dies
 * holding a job leaves it to be claimed again when its lease runs out.
 *
 * The Redis implementation is redis-alert-queue.ts; memory-alert-queue.ts serves one process.
 */
import type { Acknowledgement, AlertDestination, AlertJob, AlertRecord, AlertTarget, SafetyAlert, SentRef } from './alert.js';

/**
 * `queued`: stored, one job per destination. `duplicate`: this episode was raised already.
 * `open`: a `requested` alert while the person's previous request is not yet taken (one open
 * request per person at a time).
 */
export type RaiseOutcome = 'queued' | 'duplicate' | 'open';

export interface AckOutcome {
  /** `acknowledged`: this call took it. `taken`: someone had already (`ack` says who). `unknown`: no such episode. */
  outcome: 'acknowledged' | 'taken' | 'unknown';
  ack?: Acknowledgement | undefined;
  record?: AlertRecord | undefined;
}

/** A job a worker holds under a lease. */
export interface ClaimedJob {
  episode: string;
  job: AlertJob;
  /** Tries of this job so far, this one included. */
  tries: number;
  record: AlertRecord;
}

/** What a finished job leaves behind. */
export interface DoneResult {
  /** A send: where the posted alert is (to edit it later). */
  sent?: SentRef | undefined;
  /** A send: the conversation link used. */
  link?: string | undefined;
  /** A remind job: a reminder was posted (counted in the record's `reminded`). */
  reminded?: boolean | undefined;
  /** A remind job: when the next reminder is due (epoch ms), queued only while nobody has taken the alert; absent: no more. */
  nextReminderAt?: number | undefined;
  /** A remind job for a destination where the alert itself failed for good: send the alert there again (fresh tries), while nobody has taken it. */
  resend?: boolean | undefined;
}

export interface AlertQueue {
  readonly name: string;
  /** Stores the alert and queues a send job per destination of `target`, once per episode. */
  raise(alert: SafetyAlert, target: AlertTarget): Promise<RaiseOutcome>;
  /** Records who took the alert (the first caller wins) and queues the edits that say so; ends the person's open request. */
  acknowledge(episode: string, by: string, now?: Date): Promise<AckOutcome>;
  get(episode: string): Promise<AlertRecord | null>;
  /** The newest alerts, newest first (for `npm run safety -- list`). */
  recent(count: number): Promise<AlertRecord[]>;
  /** A due job for one of `destinations`, held for `leaseMs`; null when none is due. */
  claim(destinations: readonly AlertDestination[], leaseMs: number, now?: number): Promise<ClaimedJob | null>;
  /** The job succeeded (see DoneResult). */
  done(job: ClaimedJob, result?: DoneResult): Promise<void>;
  /** The job failed this time: due again at `dueAt` (epoch ms). */
  retry(job: ClaimedJob, dueAt: number): Promise<void>;
  /** The job failed for good (out of tries): recorded in the alert. */
  fail(job: ClaimedJob): Promise<void>;
  /** Jobs not yet done (gauge; tests). */
  pending(): Promise<number>;
  /** Every kept alert about a person (`platform:user`), oldest first: their part of `npm run data -- export`. */
  ofUser(userKey: string): Promise<AlertRecord[]>;
  /** Removes what is kept about a person's alerts' text (erasure): the alerts themselves stay, without text. */
  forgetText?(userKey: string): Promise<number>;
}
