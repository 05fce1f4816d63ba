/**
 * Alerts in Redis, shared by every instance (see alert-queue.ts for the contract and
 * alert-scripts.ts for the scripts). Keys, all in the `{alerts}` slot:
 *
 *   <p>:alerts:{alerts}:episode:<ep>   hash    the alert (JSON), target (JSON), link, sent:<dest>, failed:<dest>,
 *                                              reminded:<dest>, ackBy, ackAt; the message text only with
 *                                              include_text (sealed when a key is set). Kept 30 days.
 *   <p>:alerts:{alerts}:due:<dest>     zset    that destination's jobs `<send|ack>|<dest>|<ep>` by due time (epoch ms)
 *   <p>:alerts:{alerts}:reminders:<dest> zset  its jobs `remind|<dest>|<ep>` by due time, while nobody took the alert
 *   <p>:alerts:{alerts}:tries          hash    job -> tries so far
 *   <p>:alerts:{alerts}:recent         zset    episodes by time raised (the newest 1,000)
 *   <p>:alerts:{alerts}:open:<user>    string  the person's `human` request not yet taken (24 h)
 *   <p>:alerts:{alerts}:user:<user>    set     the person's episodes (erasure drops their text)
 */
import type { RedisClient } from '../../redis/connection.js';
import { plainText, type TextCipher } from '../../redis/cipher.js';
import { destinationsOf, oldestFirst, type Acknowledgement, type AlertDestination, type AlertJob, type AlertRecord, type AlertTarget, type SafetyAlert, type SentRef } from './alert.js';
import type { AckOutcome, AlertQueue, ClaimedJob, DoneResult, RaiseOutcome } from './alert-queue.js';
import { ACK, CLAIM, DONE, FAIL, JOB_DESTINATIONS, PENDING, RAISE } from './alert-scripts.js';

/** How long an alert's record is kept: 30 days. */
export const ALERT_TTL_S = 30 * 86_400;

export interface RedisAlertQueueOptions {
  client: RedisClient;
  prefix?: string | undefined;
  /** Seals an included message text at rest (HISTORY_ENCRYPTION_KEY). */
  cipher?: TextCipher | undefined;
  /** The audit trail (the session store's): acknowledgements are recorded there, without text. */
  audit?: ((entry: { actor: string; action: string; target: string; [field: string]: string }) => Promise<void>) | undefined;
}

export class RedisAlertQueue implements AlertQueue {
  readonly name = 'redis';
  private readonly redis: RedisClient;
  private readonly p: string;
  private readonly cipher: TextCipher;
  private readonly audit: RedisAlertQueueOptions['audit'];

  constructor(o: RedisAlertQueueOptions) {
    this.redis = o.client;
    this.p = `${o.prefix ?? 'trt'}:alerts:{alerts}`;
    this.cipher = o.cipher ?? plainText;
    this.audit = o.audit;
  }

  private episodeKey(ep: string): string {
    return `${this.p}:episode:${ep}`;
  }
  /**
   * The first keys of every script (alert-scripts.ts): each destination's due jobs, each one's
   * reminders (apart, so `pending` counts what is still to be delivered), the tries hash.
   */
  private get jobKeys(): string[] {
    return [...JOB_DESTINATIONS.map((d) => `${this.p}:due:${d}`), ...JOB_DESTINATIONS.map((d) => `${this.p}:reminders:${d}`), `${this.p}:tries`];
  }
  /** The sorted set a job lives in. */
  private jobKey(job: ClaimedJob): string {
    return `${this.p}:${job.job.kind === 'remind' ? 'reminders' : 'due'}:${job.job.destination}`;
  }
  private get recentKey(): string {
    return `${this.p}:recent`;
  }
  private openKey(user: string): string {
    return `${this.p}:open:${user}`;
  }
  private userKey(user: string): string {
    return `${this.p}:user:${user}`;
  }

  async raise(alert: SafetyAlert, target: AlertTarget): Promise<RaiseOutcome> {
    const { text, ...plain } = alert;
    const fields = ['alert', JSON.stringify(plain), 'target', JSON.stringify(target), ...(text !== undefined ? ['text', this.cipher.seal(text)] : [])];
    const dests = destinationsOf(target);
    const user = `${alert.platform}:${alert.userId}`;
    const requested = alert.kind === 'requested';
    const keys = [...this.jobKeys, this.episodeKey(alert.episode), this.recentKey, requested ? this.openKey(user) : this.episodeKey(alert.episode), this.userKey(user)];
    const out = await this.redis.eval(RAISE, keys.length, ...keys, ALERT_TTL_S, Date.now(), alert.episode, requested ? '1' : '0', target.remindAfterMs ?? 0, fields.length / 2, ...fields, ...dests);
    return out as RaiseOutcome;
  }

  async acknowledge(episode: string, by: string, now = new Date()): Promise<AckOutcome> {
    const user = await this.redis.hget(this.episodeKey(episode), 'alert');
    if (user === null) return { outcome: 'unknown' };
    const alert = JSON.parse(user) as SafetyAlert;
    const open = this.openKey(`${alert.platform}:${alert.userId}`);
    const keys = [...this.jobKeys, this.episodeKey(episode), open];
    const out = (await this.redis.eval(ACK, keys.length, ...keys, by, now.toISOString(), now.getTime(), episode)) as string[];
    const record = (await this.get(episode)) ?? undefined;
    if (out[0] === 'taken') return { outcome: 'taken', ack: { by: out[1]!, at: out[2]! }, record };
    if (out[0] === 'unknown') return { outcome: 'unknown' };
    await this.audit?.({ actor: by, action: 'safety_alert_acknowledged', target: episode, kind: alert.kind, platform: alert.platform, ...(record?.ack ? { latency_s: String(latencySeconds(alert, record.ack)) } : {}) }).catch(() => undefined);
    return { outcome: 'acknowledged', ack: record?.ack ?? { by, at: now.toISOString() }, record };
  }

  async get(episode: string): Promise<AlertRecord | null> {
    const h = await this.redis.hgetall(this.episodeKey(episode));
    return h.alert ? this.toRecord(h) : null;
  }

  async recent(count: number): Promise<AlertRecord[]> {
    const eps = await this.redis.zrevrange(this.recentKey, 0, Math.max(0, count - 1));
    const out: AlertRecord[] = [];
    for (const ep of eps) {
      const r = await this.get(ep);
      if (r) out.push(r);
    }
    return out;
  }

  async claim(dests: readonly AlertDestination[], leaseMs: number, now = Date.now()): Promise<ClaimedJob | null> {
    if (dests.length === 0) return null;
    for (;;) {
      const out = (await this.redis.eval(CLAIM, 7, ...this.jobKeys, now, leaseMs, ...dests)) as [string, number] | null;
      if (!out) return null;
      const [member, tries] = out;
      const [kind, destination, episode] = member.split('|') as [AlertJob['kind'], AlertDestination, string];
      const record = await this.get(episode);
      if (record) return { episode, job: { kind, destination } as AlertJob, tries: Number(tries), record };
      // The record expired or was removed: nothing left to send.
      await this.redis.eval(FAIL, 8, ...this.jobKeys, this.episodeKey(episode), member, destination);
    }
  }

  async done(job: ClaimedJob, result: DoneResult = {}): Promise<void> {
    await this.redis.eval(
      DONE, 8, ...this.jobKeys, this.episodeKey(job.episode), member(job), job.job.destination,
      result.sent ? JSON.stringify(result.sent) : '', result.link ?? '', Date.now(), result.reminded ? '1' : '0', result.nextReminderAt ?? '', result.resend ? '1' : '0',
    );
  }

  async retry(job: ClaimedJob, dueAt: number): Promise<void> {
    await this.redis.zadd(this.jobKey(job), 'XX', dueAt, member(job));
  }

  async fail(job: ClaimedJob): Promise<void> {
    await this.redis.eval(FAIL, 8, ...this.jobKeys, this.episodeKey(job.episode), member(job), job.job.destination);
  }

  async pending(): Promise<number> {
    return Number(await this.redis.eval(PENDING, 7, ...this.jobKeys));
  }

  async ofUser(userKey: string): Promise<AlertRecord[]> {
    // Read together (one trip); an episode whose record expired (30 days) is skipped, and the set expires with the last.
    const records = await Promise.all((await this.redis.smembers(this.userKey(userKey))).map((ep) => this.get(ep)));
    return records.filter((r): r is AlertRecord => r !== null).sort(oldestFirst);
  }

  /** Drops the message text from every alert of the person (the alerts themselves stay: someone may be reaching out). */
  async forgetText(userKey: string): Promise<number> {
    const eps = await this.redis.smembers(this.userKey(userKey));
    let n = 0;
    for (const ep of eps) n += await this.redis.hdel(this.episodeKey(ep), 'text');
    return n;
  }

  private toRecord(h: Record<string, string>): AlertRecord {
    const alert = JSON.parse(h.alert!) as SafetyAlert;
    if (h.text !== undefined) {
      try {
        alert.text = this.cipher.open(h.text);
      } catch {
        // sealed with a key no longer configured: the alert goes without the text
      }
    }
    const sent: AlertRecord['sent'] = {};
    const failed: AlertDestination[] = [];
    const reminded: AlertRecord['reminded'] = {};
    for (const [k, v] of Object.entries(h)) {
      if (k.startsWith('sent:')) sent[k.slice(5) as AlertDestination] = v === 'posted' ? 'posted' : (JSON.parse(v) as SentRef);
      if (k.startsWith('failed:')) failed.push(k.slice(7) as AlertDestination);
      if (k.startsWith('reminded:')) reminded[k.slice(9) as AlertDestination] = Number(v);
    }
    const ack: Acknowledgement | undefined = h.ackBy && h.ackAt ? { by: h.ackBy, at: h.ackAt } : undefined;
    return { alert, target: JSON.parse(h.target!) as AlertTarget, ...(h.link ? { link: h.link } : {}), sent, failed, ...(Object.keys(reminded).length > 0 ? { reminded } : {}), ...(ack ? { ack } : {}) };
  }
}

function member(job: ClaimedJob): string {
  return `${job.job.kind}|${job.job.destination}|${job.episode}`;
}

/** Seconds from the alert being raised to its acknowledgement. */
export function latencySeconds(alert: SafetyAlert, ack: Acknowledgement): number {
  return Math.max(0, (Date.parse(ack.at) - Date.parse(alert.at)) / 1000);
}
