/**
 * Delivers queued alerts: claims a due job (under a lease, so a worker that dies leaves it to
 * another), resolves the link to the conversation once, posts through the destination's
 * notifier, and settles the job: done, due again after a backoff, or, out of tries, failed
 * (logged at error level, counted and audited). Jobs for destinations this process has no
 * notifier for are left to a worker that has one.
 */
import { errorCode } from '../../util/error-code.js';
import type { Logger } from '../../util/logger.js';
import { MAX_REMINDERS, destinationsOf, type AlertDestination, type AlertNotifier, type AlertRecord, type ConversationLink } from './alert.js';
import type { AlertQueue, ClaimedJob } from './alert-queue.js';
import { latencySeconds } from './redis-alert-queue.js';

export type AlertOutcome = 'sent' | 'retried' | 'failed' | 'edited' | 'reminded' | 'remind_failed';

export interface AlertWorkerOptions {
  queue: AlertQueue;
  notifiers: AlertNotifier[];
  /** Per person's platform: a link to the conversation (a Slack permalink, a Discord message link). */
  links?: Partial<Record<string, ConversationLink>> | undefined;
  logger: Logger;
  /** How often to look for due jobs when there were none. Default 500 ms. */
  pollMs?: number | undefined;
  /** How long a claimed job is held before another worker may take it. Default 60 s here; the bot passes SAFETY_ALERT_LEASE_MS (30 s). A post times out well before. */
  leaseMs?: number | undefined;
  /** Tries before a job is given up. Default 12: the last starts about 13.5 minutes after the first with the default backoff. */
  maxTries?: number | undefined;
  /** The wait after a failed try. Default 500 ms doubling per try, at most 5 minutes. */
  backoffMs?: ((tries: number) => number) | undefined;
  /** Each step's outcome (metrics). */
  onOutcome?: ((outcome: AlertOutcome) => void) | undefined;
  /** A responder took an alert, `seconds` after it was raised (told once per alert). */
  onTaken?: ((seconds: number) => void) | undefined;
  /** The audit trail: sent and failed alerts (ids and kinds, never text). */
  audit?: ((entry: { actor: string; action: string; target: string; [field: string]: string }) => Promise<void>) | undefined;
}

/** The longest wait for a link to the conversation before the alert goes without one. */
const LINK_TIMEOUT_MS = 5_000;

const GIVEN_UP: Record<ClaimedJob['job']['kind'], string> = {
  send: 'safety alert could not be delivered; given up',
  ack: 'safety alert could not be marked as taken; given up',
  remind: 'safety alert reminder could not be delivered; the next one is still due',
};

/** The number of the reminder about to go to `dest`, and when the one after it is due (none after MAX_REMINDERS). */
function thisReminder(r: AlertRecord, dest: AlertDestination): { n: number; next: { nextReminderAt?: number } } {
  const n = (r.reminded?.[dest] ?? 0) + 1;
  const every = r.target.remindAfterMs ?? 0;
  return { n, next: n < MAX_REMINDERS && every > 0 ? { nextReminderAt: Date.now() + every } : {} };
}

export const defaultBackoff = (tries: number): number => Math.min(300_000, 500 * 2 ** Math.max(0, tries - 1));

export class AlertWorker {
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private readonly byDestination = new Map<AlertDestination, AlertNotifier>();
  private readonly o: Required<Pick<AlertWorkerOptions, 'pollMs' | 'leaseMs' | 'maxTries' | 'backoffMs'>> & AlertWorkerOptions;

  constructor(options: AlertWorkerOptions) {
    this.o = { pollMs: 500, leaseMs: 60_000, maxTries: 12, backoffMs: defaultBackoff, ...options };
    for (const n of options.notifiers) this.byDestination.set(n.destination, n);
  }

  /** The destinations this worker delivers to. */
  get destinations(): AlertDestination[] {
    return [...this.byDestination.keys()];
  }

  start(): void {
    if (this.running || this.byDestination.size === 0) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Stops looking for jobs; a post in flight finishes (its lease covers a crash). */
  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }

  /**
   * Delivers what is due now, for up to `timeoutMs` (a process about to exit: the terminal
   * chat's alerts live in its memory). Returns the jobs still waiting.
   */
  async drain(timeoutMs: number): Promise<number> {
    await this.stop();
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const worked = await this.tick().catch(() => false);
      if (!worked) {
        if ((await this.o.queue.pending().catch(() => 0)) === 0) return 0;
        await new Promise((r) => setTimeout(r, Math.min(this.o.pollMs, Math.max(0, deadline - Date.now()))));
      }
    }
    return this.o.queue.pending().catch(() => 0);
  }

  /** Looks for a due job now instead of at the next poll (an alert was just raised here). */
  nudge(): void {
    this.wake?.();
  }

  /** Delivers one due job; false when none was due. */
  async tick(now = Date.now()): Promise<boolean> {
    const job = await this.o.queue.claim(this.destinations, this.o.leaseMs, now);
    if (!job) return false;
    await this.deliver(job);
    return true;
  }

  private async run(): Promise<void> {
    let quietFor = this.o.pollMs;
    while (this.running) {
      let worked = false;
      try {
        worked = await this.tick();
        quietFor = this.o.pollMs;
      } catch (err) {
        // The queue's Redis is away: look again later (the jobs wait there, due).
        this.o.logger.warn({ err: errorCode(err) }, 'safety alerts: the queue could not be read; trying again');
        quietFor = Math.min(quietFor * 2, 10_000);
      }
      if (!worked && this.running) await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, quietFor);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  private async deliver(c: ClaimedJob): Promise<void> {
    const notifier = this.byDestination.get(c.job.destination)!;
    const { record } = c;
    const ids = { episode: c.episode, destination: c.job.destination, tries: c.tries };
    try {
      if (c.job.kind === 'send') {
        const link = record.link ?? (await this.link(record));
        const sent = await notifier.send({ ...record, link });
        await this.o.queue.done(c, { sent, link });
        this.o.logger.info({ ...ids, kind: record.alert.kind }, 'safety alert sent');
        this.o.onOutcome?.('sent');
        await this.audit('bot', 'safety_alert_sent', c, record);
      } else if (c.job.kind === 'remind') {
        await this.remind(c);
      } else {
        const sent = record.sent[c.job.destination];
        await notifier.acknowledged(record, sent === 'posted' ? undefined : sent, record.ack!);
        await this.o.queue.done(c);
        this.o.logger.info(ids, 'safety alert marked as taken');
        this.o.onOutcome?.('edited');
        // Once per alert: for the first destination it was posted to.
        const first = destinationsOf(record.target).find((d) => record.sent[d] !== undefined);
        // A drill's press is not a responder's reaction time.
        if (first === c.job.destination && record.ack && record.alert.kind !== 'test') this.o.onTaken?.(latencySeconds(record.alert, record.ack));
      }
    } catch (err) {
      await this.failed(c, err);
    }
  }

  /**
   * Nobody has taken the alert `remindAfterMs` after it was raised (or after the last reminder):
   * say so again at this destination. Taken meanwhile: nothing. The alert itself not yet through
   * here (its send still retrying): the reminder waits as long again, uncounted, rather than
   * overtake it. Given up here: the reminder is the alert itself, sent again with fresh tries
   * (a bare reminder would point at an alert nobody there has). Otherwise a reminder (a reply to
   * the alert where there is one). The next is queued until MAX_REMINDERS.
   */
  private async remind(c: ClaimedJob): Promise<void> {
    const every = c.record.target.remindAfterMs ?? 0;
    const dest = c.job.destination;
    // Read again just before posting: someone may have taken it since the claim.
    const record = await this.o.queue.get(c.episode);
    if (!record || record.ack || every <= 0) return this.o.queue.done(c);
    const sent = record.sent[dest];
    const failed = record.failed.includes(dest);
    if (sent === undefined && !failed) return this.o.queue.done(c, { nextReminderAt: Date.now() + every });
    const { n, next } = thisReminder(record, dest);
    const minutes = Math.max(1, Math.round((Date.now() - Date.parse(record.alert.at)) / 60_000));
    if (failed) {
      await this.o.queue.done(c, { reminded: true, resend: true, ...next });
      this.o.logger.warn({ episode: c.episode, destination: dest, reminder: n, of: MAX_REMINDERS, minutes }, 'safety alert not taken and not delivered there; sending it again');
    } else {
      await this.byDestination.get(dest)!.remind(record, sent === 'posted' ? undefined : sent, { n, of: MAX_REMINDERS, minutes });
      await this.o.queue.done(c, { reminded: true, ...next });
      this.o.logger.warn({ episode: c.episode, destination: dest, reminder: n, of: MAX_REMINDERS, minutes }, 'safety alert not taken yet; reminded');
    }
    this.o.onOutcome?.('reminded');
    await this.audit('bot', 'safety_alert_reminded', c, record);
  }

  private async failed(c: ClaimedJob, err: unknown): Promise<void> {
    const ids = { episode: c.episode, destination: c.job.destination, job: c.job.kind, tries: c.tries, err: errorCode(err) };
    if (c.tries >= this.o.maxTries && c.job.kind === 'remind') {
      // One reminder that could not be posted does not end the chain: the next one is still due
      // (this one still counts towards MAX_REMINDERS, so a destination that stays down is not
      // tried for ever).
      await this.o.queue.done(c, { reminded: true, ...thisReminder(c.record, c.job.destination).next }).catch(() => undefined);
      this.o.logger.error(ids, GIVEN_UP.remind);
      this.o.onOutcome?.('remind_failed');
      return;
    }
    if (c.tries >= this.o.maxTries) {
      await this.o.queue.fail(c).catch(() => undefined);
      this.o.logger.error(ids, GIVEN_UP[c.job.kind]);
      this.o.onOutcome?.('failed');
      if (c.job.kind === 'send') await this.audit('bot', 'safety_alert_failed', c, c.record);
      return;
    }
    const wait = this.o.backoffMs(c.tries);
    await this.o.queue.retry(c, Date.now() + wait).catch(() => undefined); // unreachable: the lease brings it back
    this.o.logger.warn({ ...ids, retryInMs: wait }, 'safety alert delivery failed; retrying');
    this.o.onOutcome?.('retried');
  }

  private async link(record: AlertRecord): Promise<string | undefined> {
    const resolve = this.o.links?.[record.alert.platform];
    if (!resolve) return undefined;
    // A link helps the responder; its absence must not hold the alert back (also a resolver
    // that throws before returning a promise: that would fail the send and retry it to the end).
    // A resolver that never answers is given LINK_TIMEOUT_MS, no more.
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(Object.assign(new Error('link timed out'), { code: 'LINK_TIMEOUT' })), LINK_TIMEOUT_MS)));
    return Promise.race([Promise.resolve().then(() => resolve(record.alert)), late])
      .catch((err: unknown) => {
        this.o.logger.warn({ episode: record.alert.episode, err: errorCode(err) }, 'safety alert: no link to the conversation');
        return undefined;
      })
      .finally(() => clearTimeout(timer));
  }

  private async audit(actor: string, action: string, c: ClaimedJob, r: AlertRecord): Promise<void> {
    await this.o
      .audit?.({ actor, action, target: c.episode, destination: c.job.destination, kind: r.alert.kind, platform: r.alert.platform, tenant: r.alert.tenant ?? '', tries: String(c.tries), includes_text: r.alert.text !== undefined ? 'yes' : 'no' })
      .catch(() => undefined);
  }
}
