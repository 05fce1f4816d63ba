/**
 * Alerts in process memory: one instance without Redis (the terminal chat, a single bot
 * process). The same contract as RedisAlertQueue, but nothing survives the process: a crash
 * before an alert went out loses it (docs/safety-alerts.md says so; run with Redis for that).
 */
import { destinationsOf, oldestFirst, type Acknowledgement, type AlertDestination, type AlertJob, type AlertRecord, type AlertTarget, type SafetyAlert } from './alert.js';
import type { AckOutcome, AlertQueue, ClaimedJob, DoneResult, RaiseOutcome } from './alert-queue.js';

interface Job {
  kind: AlertJob['kind'];
  destination: AlertDestination;
  episode: string;
  dueAt: number;
  tries: number;
}

export class MemoryAlertQueue implements AlertQueue {
  readonly name = 'memory';
  private readonly records = new Map<string, AlertRecord>();
  private readonly jobs = new Map<string, Job>();
  /** Person -> the episode of their `human` request not yet taken. */
  private readonly open = new Map<string, string>();

  async raise(alert: SafetyAlert, target: AlertTarget): Promise<RaiseOutcome> {
    if (this.records.has(alert.episode)) return 'duplicate';
    const user = `${alert.platform}:${alert.userId}`;
    if (alert.kind === 'requested') {
      if (this.open.has(user)) return 'open';
      this.open.set(user, alert.episode);
    }
    this.records.set(alert.episode, { alert: { ...alert }, target: { ...target }, sent: {}, failed: [] });
    const now = Date.now();
    const remind = target.remindAfterMs ?? 0;
    for (const d of destinationsOf(target)) {
      this.queue('send', d, alert.episode, now);
      if (remind > 0) this.queue('remind', d, alert.episode, now + remind);
    }
    if (this.records.size > 1000) this.records.delete(this.records.keys().next().value!);
    return 'queued';
  }

  async acknowledge(episode: string, by: string, now = new Date()): Promise<AckOutcome> {
    const record = this.records.get(episode);
    if (!record) return { outcome: 'unknown' };
    if (record.ack) return { outcome: 'taken', ack: record.ack, record: copy(record) };
    record.ack = { by, at: now.toISOString() } satisfies Acknowledgement;
    for (const d of Object.keys(record.sent) as AlertDestination[]) this.queue('ack', d, episode, now.getTime());
    for (const d of destinationsOf(record.target)) this.jobs.delete(key({ kind: 'remind', destination: d, episode }));
    const user = `${record.alert.platform}:${record.alert.userId}`;
    if (this.open.get(user) === episode) this.open.delete(user);
    return { outcome: 'acknowledged', ack: record.ack, record: copy(record) };
  }

  async get(episode: string): Promise<AlertRecord | null> {
    const r = this.records.get(episode);
    return r ? copy(r) : null;
  }

  async recent(count: number): Promise<AlertRecord[]> {
    return [...this.records.values()].reverse().slice(0, count).map(copy);
  }

  async claim(dests: readonly AlertDestination[], leaseMs: number, now = Date.now()): Promise<ClaimedJob | null> {
    for (const job of this.jobs.values()) {
      if (job.dueAt > now || !dests.includes(job.destination)) continue;
      const record = this.records.get(job.episode);
      if (!record) {
        this.jobs.delete(key(job));
        continue;
      }
      job.dueAt = now + leaseMs;
      job.tries++;
      return { episode: job.episode, job: { kind: job.kind, destination: job.destination }, tries: job.tries, record: copy(record) };
    }
    return null;
  }

  async done(c: ClaimedJob, result: DoneResult = {}): Promise<void> {
    this.jobs.delete(key({ ...c.job, episode: c.episode }));
    const record = this.records.get(c.episode);
    if (!record) return;
    if (c.job.kind === 'remind') {
      if (result.reminded) record.reminded = { ...record.reminded, [c.job.destination]: (record.reminded?.[c.job.destination] ?? 0) + 1 };
      if (result.resend && !record.ack) {
        record.failed = record.failed.filter((d) => d !== c.job.destination);
        this.queue('send', c.job.destination, c.episode, Date.now());
      }
      if (result.nextReminderAt !== undefined && !record.ack) this.queue('remind', c.job.destination, c.episode, result.nextReminderAt);
      return;
    }
    if (c.job.kind !== 'send') return;
    record.sent[c.job.destination] = result.sent ?? 'posted';
    if (result.link) record.link = result.link;
    if (record.ack) this.queue('ack', c.job.destination, c.episode, Date.now());
  }

  async retry(c: ClaimedJob, dueAt: number): Promise<void> {
    const job = this.jobs.get(key({ ...c.job, episode: c.episode }));
    if (job) job.dueAt = dueAt;
  }

  async fail(c: ClaimedJob): Promise<void> {
    this.jobs.delete(key({ ...c.job, episode: c.episode }));
    const record = this.records.get(c.episode);
    if (record && c.job.kind === 'send' && !record.failed.includes(c.job.destination)) record.failed.push(c.job.destination);
  }

  /** Jobs still to be delivered (reminders, due later while nobody takes an alert, are not counted). */
  async pending(): Promise<number> {
    let n = 0;
    for (const j of this.jobs.values()) if (j.kind !== 'remind') n++;
    return n;
  }

  async ofUser(userKey: string): Promise<AlertRecord[]> {
    return [...this.records.values()]
      .filter((r) => `${r.alert.platform}:${r.alert.userId}` === userKey)
      .sort(oldestFirst)
      .map((r) => structuredClone(r));
  }

  async forgetText(userKey: string): Promise<number> {
    let n = 0;
    for (const r of this.records.values()) {
      if (`${r.alert.platform}:${r.alert.userId}` === userKey && r.alert.text !== undefined) {
        delete r.alert.text;
        n++;
      }
    }
    return n;
  }

  private queue(kind: AlertJob['kind'], destination: AlertDestination, episode: string, dueAt: number): void {
    this.jobs.set(key({ kind, destination, episode }), { kind, destination, episode, dueAt, tries: 0 });
  }
}

function key(j: { kind: string; destination: string; episode: string }): string {
  return `${j.kind}|${j.destination}|${j.episode}`;
}

function copy(r: AlertRecord): AlertRecord {
  return structuredClone(r);
}
