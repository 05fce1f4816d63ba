/**
 * Delivers the check-ins people asked for: polls the schedule, claims what is due (a lease:
 * a worker that dies holding one leaves it to another when the lease runs out), then either
 * skips this occurrence without posting (the person is in the safety state, wrote in the last
 * hour, it is now their quiet hours while the time they chose is not, or it is over an hour
 * late) or posts the config's check-in through the platform's outlet, as replies are posted,
 * and notes it in the DM's history. Either way the next one is due the next day: nothing
 * queues up. What the outlet posted is recorded before settling, so a takeover of an
 * occurrence already posted does not post it again.
 */
import type { Marks } from '../session/marks.js';
import type { SessionStore } from '../session/store.js';
import type { Outlets } from '../queue/turn-queue.js';
import { inQuietHours } from '../engine/settings.js';
import { errorCode } from '../util/error-code.js';
import { silentLogger, type Logger } from '../util/logger.js';
import type { LastActive } from './last-active.js';
import { localTime, nextOccurrence } from './next-occurrence.js';
import type { CheckinQueue, ClaimedCheckin } from './schedule.js';

export type CheckinOutcome = 'sent' | 'skipped_safety' | 'skipped_recent' | 'skipped_quiet' | 'skipped_late' | 'failed' | 'stopped';

/** Someone who wrote this recently is not interrupted by a check-in. */
export const RECENT_MS = 3_600_000;
/** A post that keeps failing is given up for the day this long after it was due; so is an occurrence found this late (an outage). */
export const LATE_MS = 3_600_000;

export interface CheckinWorkerOptions {
  schedule: CheckinQueue;
  outlets: Outlets;
  /** The check-in's words (responses.settings.checkin_message). */
  message: string;
  /** Person-level safety marks (`safety:<userKey>`, see engine/turn-transaction.ts). */
  marks: Marks;
  /** Where the check-in is noted in the DM's history. */
  store: Pick<SessionStore, 'annotate'>;
  lastActive: LastActive;
  logger?: Logger;
  onOutcome?: (outcome: CheckinOutcome) => void;
  /** How often the schedule is polled (default 1 s). */
  pollMs?: number;
  /** How long a claimed check-in is held before another worker may take it (default 60 s). */
  leaseMs?: number;
  /** The wait before another try at a failed post (default 30 s doubling, at most 10 min). */
  backoffMs?: (tries: number) => number;
  /** The clock (tests move it to when a check-in is due). */
  now?: () => number;
}

export class CheckinWorker {
  private readonly o: CheckinWorkerOptions;
  private readonly logger: Logger;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(o: CheckinWorkerOptions) {
    this.o = o;
    this.logger = o.logger ?? silentLogger;
    this.now = o.now ?? Date.now;
  }

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.tick()
        .then(() => undefined)
        .catch((err) => this.logger.warn({ err: errorCode(err) }, 'check-ins: poll failed'))
        .finally(() => this.schedule(this.o.pollMs ?? 1000));
    }, ms);
    this.timer.unref?.();
  }

  /** Handles every check-in due now (one at a time); the number handled. */
  async tick(): Promise<number> {
    let n = 0;
    const platforms = Object.keys(this.o.outlets);
    for (;;) {
      if (this.stopped && n > 0) return n;
      const c = await this.o.schedule.claim(this.now(), this.o.leaseMs ?? 60_000, platforms);
      if (!c) return n;
      n++;
      await this.handle(c).catch((err) => this.logger.warn({ userKey: c.target.userKey, err: errorCode(err) }, 'check-in: not handled; due again when its lease ends'));
    }
  }

  private async handle(c: ClaimedCheckin): Promise<void> {
    const { target } = c;
    const now = this.now();
    const next = nextOccurrence(c.time, c.timeZone, now);
    const settle = async (outcome: CheckinOutcome | null) => {
      await this.o.schedule.settle(c, next);
      if (outcome) this.outcome(c, outcome);
    };
    // An earlier holder posted it and died before settling: it is delivered.
    if (c.posted?.shows === 'reply') return settle(null);
    if (now - c.occurrence > LATE_MS) return settle(c.tries > 0 ? 'failed' : 'skipped_late');
    if (inQuietHours(localTime(now, c.timeZone)) && !inQuietHours(c.time)) return settle('skipped_quiet');
    if (await this.o.marks.exists(`safety:${target.userKey}`)) return settle('skipped_safety');
    const last = await this.o.lastActive(target.sessionId);
    if (last === undefined) {
      // The DM session expired or was erased: nothing of the person is kept, so neither is this.
      await this.o.schedule.clear(target.userKey);
      return this.outcome(c, 'stopped');
    }
    if (now - last < RECENT_MS) return settle('skipped_recent');

    if (await this.post(c)) {
      const at = new Date(this.now()).toISOString();
      await this.o.store.annotate(target.sessionId, { role: 'bot', text: this.o.message, at, action: 'checkin', to: target.userKey }).catch((err) => this.logger.warn({ sessionId: target.sessionId, err: errorCode(err) }, 'check-in: posted, not noted in history'));
      return settle('sent');
    }
    const at = now + (this.o.backoffMs ?? defaultBackoff)(c.tries);
    if (at - c.occurrence >= LATE_MS) return settle('failed');
    await this.o.schedule.retry(c, at);
  }

  /** Posts the check-in as a reply is posted; true when it went out. */
  private async post(c: ClaimedCheckin): Promise<boolean> {
    const outlet = this.o.outlets[c.target.platform]!;
    const record = (message: Parameters<CheckinQueue['record']>[1]) => this.o.schedule.record(c, message).catch(() => undefined);
    try {
      const turn = outlet.begin(c.target.replyTo, c.target.sessionId, { ...(c.posted ? { earlier: c.posted } : {}), record });
      const ok = await turn.deliver(this.o.message).catch(() => false);
      await turn.close().catch(() => undefined);
      return ok;
    } catch (err) {
      this.logger.warn({ sessionId: c.target.sessionId, err: errorCode(err) }, 'check-in: the outlet could not post it');
      return false;
    }
  }

  private outcome(c: ClaimedCheckin, outcome: CheckinOutcome): void {
    this.logger.info({ userKey: c.target.userKey, outcome }, 'check-in');
    this.o.onOutcome?.(outcome);
  }
}

export function defaultBackoff(tries: number): number {
  return Math.min(600_000, 30_000 * 2 ** tries);
}
