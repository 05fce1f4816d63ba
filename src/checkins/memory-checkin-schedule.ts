/** Check-ins in this process's memory (tests; one instance): the same claims, leases and fencing as in Redis. */
import type { TurnMessage } from '../queue/turn-message.js';
import { nextOccurrence } from './next-occurrence.js';
import type { CheckinQueue, CheckinTarget, ClaimedCheckin } from './schedule.js';

interface Entry {
  target: CheckinTarget;
  time: string;
  timeZone: string;
  due: number;
  occurrence: number;
  token: number;
  tries: number;
  posted?: { occurrence: number; message: TurnMessage };
}

export class MemoryCheckinSchedule implements CheckinQueue {
  readonly name = 'memory';
  private readonly entries = new Map<string, Entry>();
  /** Fencing tokens, never reused (not even after a clear). */
  private tokens = 0;
  constructor(private readonly now: () => number = Date.now) {}

  async set(target: CheckinTarget, time: string, timeZone: string): Promise<void> {
    const next = nextOccurrence(time, timeZone, this.now());
    const token = ++this.tokens;
    this.entries.set(target.userKey, { target: structuredClone(target), time, timeZone, due: next, occurrence: next, token, tries: 0 });
  }

  async clear(userKey: string): Promise<void> {
    this.entries.delete(userKey);
  }

  async claim(now: number, leaseMs: number, platforms: readonly string[]): Promise<ClaimedCheckin | null> {
    for (const [key, e] of this.entries) {
      if (e.due > now || !platforms.includes(e.target.platform)) continue;
      e.due = now + leaseMs;
      e.token = ++this.tokens;
      const posted = e.posted && e.posted.occurrence === e.occurrence ? e.posted.message : undefined;
      return { target: structuredClone(this.entries.get(key)!.target), time: e.time, timeZone: e.timeZone, occurrence: e.occurrence, token: e.token, tries: e.tries, ...(posted ? { posted } : {}) };
    }
    return null;
  }

  async settle(c: ClaimedCheckin, nextDue: number): Promise<boolean> {
    const e = this.held(c);
    if (!e) return false;
    e.due = nextDue;
    e.occurrence = nextDue;
    e.tries = 0;
    delete e.posted;
    return true;
  }

  async retry(c: ClaimedCheckin, at: number): Promise<boolean> {
    const e = this.held(c);
    if (!e) return false;
    e.due = at;
    e.tries++;
    return true;
  }

  async record(c: ClaimedCheckin, message: TurnMessage): Promise<void> {
    const e = this.held(c);
    if (e) e.posted = { occurrence: c.occurrence, message };
  }

  async dueAt(userKey: string): Promise<number | undefined> {
    return this.entries.get(userKey)?.due;
  }

  private held(c: ClaimedCheckin): Entry | undefined {
    const e = this.entries.get(c.target.userKey);
    return e && e.token === c.token ? e : undefined;
  }
}
