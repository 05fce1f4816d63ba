/**
 * Check-ins in Redis, shared by every instance (scripts in checkin-scripts.ts). Keys, all in
 * the `{checkins}` slot:
 *
 *   <p>:checkins:{checkins}:due              zset  userKey -> when their next check-in is due (epoch ms;
 *                                                  while a worker holds it, the end of its lease)
 *   <p>:checkins:{checkins}:target:<userKey> hash  target (JSON: platform, user, DM session, replyTo), time
 *                                                  (HH:MM), zone (IANA), occurrence (ms), token, tries, posted
 *
 *   <p>:checkins:{checkins}:tokens           string the fencing-token counter
 *
 * No message text is stored: the check-in's words are config. Kept until `settings checkins off`,
 * `stop` or erasure clears them (and dropped by the worker once the DM session itself expired).
 */
import type { RedisClient } from '../redis/connection.js';
import type { TurnMessage } from '../queue/turn-message.js';
import { CLAIM, CLEAR, RECORD, RETRY, SET, SETTLE } from './checkin-scripts.js';
import { nextOccurrence } from './next-occurrence.js';
import type { CheckinQueue, CheckinTarget, ClaimedCheckin } from './schedule.js';

/** How many due members one claim looks at (others wait for the next claim, a moment later). */
const SCAN = 20;

export class RedisCheckinSchedule implements CheckinQueue {
  readonly name = 'redis';
  private readonly p: string;

  constructor(
    private readonly redis: RedisClient,
    prefix?: string,
    private readonly now: () => number = Date.now,
  ) {
    this.p = `${prefix ?? 'trt'}:checkins:{checkins}`;
  }

  get dueKey(): string {
    return `${this.p}:due`;
  }
  private get tokensKey(): string {
    return `${this.p}:tokens`;
  }
  targetKey(userKey: string): string {
    return `${this.p}:target:${userKey}`;
  }

  async set(target: CheckinTarget, time: string, timeZone: string): Promise<void> {
    const next = nextOccurrence(time, timeZone, this.now());
    await this.redis.eval(SET, 3, this.dueKey, this.targetKey(target.userKey), this.tokensKey, target.userKey, JSON.stringify(target), time, timeZone, next);
  }

  async clear(userKey: string): Promise<void> {
    await this.redis.eval(CLEAR, 2, this.dueKey, this.targetKey(userKey), userKey);
  }

  async claim(now: number, leaseMs: number, platforms: readonly string[]): Promise<ClaimedCheckin | null> {
    const due = await this.redis.zrangebyscore(this.dueKey, '-inf', now, 'LIMIT', 0, SCAN);
    for (const member of due) {
      if (!platforms.includes(member.slice(0, member.indexOf(':')))) continue;
      const out = (await this.redis.eval(CLAIM, 3, this.dueKey, this.targetKey(member), this.tokensKey, member, now, leaseMs)) as [number, string, string, string, string, string, string] | null;
      if (!out) continue; // another worker took it first
      const [token, target, time, zone, occurrence, tries, posted] = out;
      const was = posted ? (JSON.parse(posted) as { occurrence: number; message: TurnMessage }) : undefined;
      return {
        target: JSON.parse(target) as CheckinTarget,
        time,
        timeZone: zone,
        occurrence: Number(occurrence),
        token: Number(token),
        tries: Number(tries),
        ...(was && was.occurrence === Number(occurrence) ? { posted: was.message } : {}),
      };
    }
    return null;
  }

  async settle(c: ClaimedCheckin, nextDue: number): Promise<boolean> {
    return (await this.redis.eval(SETTLE, 2, this.dueKey, this.targetKey(c.target.userKey), c.target.userKey, c.token, nextDue)) === 1;
  }

  async retry(c: ClaimedCheckin, at: number): Promise<boolean> {
    return (await this.redis.eval(RETRY, 2, this.dueKey, this.targetKey(c.target.userKey), c.target.userKey, c.token, at)) === 1;
  }

  async record(c: ClaimedCheckin, message: TurnMessage): Promise<void> {
    await this.redis.eval(RECORD, 1, this.targetKey(c.target.userKey), c.token, JSON.stringify({ occurrence: c.occurrence, message }));
  }

  async dueAt(userKey: string): Promise<number | undefined> {
    const s = await this.redis.zscore(this.dueKey, userKey);
    return s === null ? undefined : Number(s);
  }
}
