/**
 * Dead letters: a batch of queued messages whose turn failed MAX_ATTEMPTS times (it threw,
 * or its reply could not be posted) is parked here, so the session's later messages go on
 * and an operator can replay it once the cause is fixed (`npm run data -- dead-letters`).
 *
 *   <p>:queue:dead   stream, one entry per parked batch, fields:
 *     session   session id
 *     user      <platform>:<user id> of the batch's person (erasure finds it by this)
 *     reason    error code or name (errorCode), or UNAVAILABLE for a turn that reported it could not
 *               be answered or delivered; never an error's message, which could quote the person
 *     attempts  tries made
 *     at        epoch ms when it was parked
 *     ids       JSON array of the platform message ids
 *     seqs      JSON array of their sequence numbers in the session
 *     payloads  JSON array of the messages as the inbox stored them (sealed with the queue's
 *               cipher when HISTORY_ENCRYPTION_KEY is set): replayable, never logged
 *
 * Bounded two ways: XADD trims to about DEAD_LETTERS_MAX entries, and entries older than
 * DEAD_LETTERS_MAX_AGE_MS (the inbox's own TTL: a parked message is kept no longer than an
 * unanswered one would have been) are trimmed when a batch is parked and by the workers
 * now and then. Both trims are approximate (`~`): whole stream nodes go, a few more may stay.
 */
import type { TextCipher } from '../../redis/cipher.js';
import type { RedisClient } from '../../redis/connection.js';
import type { InboxMessage, QueuedMessage, TurnQueue } from '../turn-queue.js';
import type { QueueKeys } from './queue-keys.js';

/** About this many entries are kept (XADD MAXLEN ~). */
export const DEAD_LETTERS_MAX = 10_000;
/** Entries older than this are trimmed (XTRIM MINID ~): 7 days, the inbox's TTL. */
export const DEAD_LETTERS_MAX_AGE_MS = 7 * 86_400_000;

export interface DeadLetter {
  /** The stream entry id (`<ms>-<n>`): what --replay and --drop take. */
  id: string;
  sessionId: string;
  user: string;
  reason: string;
  attempts: number;
  at: number;
  ids: string[];
  seqs: number[];
  payloads: string[];
}

export class NoSuchDeadLetterError extends Error {
  readonly code = 'NO_SUCH_DEAD_LETTER';
  constructor(id: string) {
    super(`no dead letter ${JSON.stringify(id)} (see the list: npm run data -- dead-letters)`);
  }
}

export class UnreadableDeadLetterError extends Error {
  readonly code = 'UNREADABLE_DEAD_LETTER';
  constructor(id: string) {
    super(`dead letter ${id} cannot be decrypted or parsed (HISTORY_ENCRYPTION_KEY changed? set the old key as HISTORY_ENCRYPTION_KEY_PREVIOUS); nothing was queued`);
  }
}

const ENTRY_ID = /^\d+-\d+$/;

export class DeadLetters {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: QueueKeys,
  ) {}

  /**
   * Parks `batch`, the head of the session's inbox (the caller owns it): its payloads are read
   * as stored, so they stay sealed. Returns the entry id, or undefined when it was parked
   * already (or is gone). The caller then drops the batch from the inbox (RELEASE); a crash in
   * between finds the mark on the next try and only releases it.
   */
  async park(sessionId: string, batch: InboxMessage[], reason: string, attempts: number): Promise<string | undefined> {
    const first = batch[0]!;
    // Once per message, whoever gets here (a second owner after a lapse, a retry after a crash
    // between parking and releasing): undefined when it was parked already (nor is it told again).
    const mark = await this.redis.set(this.keys.parked(sessionId, first.seq), '1', 'EX', Math.ceil(DEAD_LETTERS_MAX_AGE_MS / 1000), 'NX');
    if (mark !== 'OK') return undefined;
    const wanted = new Set(batch.map((m) => m.seq));
    const raw = await this.redis.lrange(this.keys.inbox(sessionId), 0, batch.length - 1);
    const stored = raw.flatMap((r) => {
      const bar = r.indexOf('|');
      return wanted.has(Number(r.slice(0, bar))) ? [{ seq: Number(r.slice(0, bar)), payload: r.slice(bar + 1) }] : [];
    });
    if (stored.length === 0) return undefined; // no longer in the inbox: dealt with elsewhere
    const now = Date.now();
    const fields = {
      session: sessionId,
      user: `${first.platform}:${first.userId}`,
      reason,
      attempts: String(attempts),
      at: String(now),
      ids: JSON.stringify(batch.map((m) => m.id)),
      seqs: JSON.stringify(stored.map((s) => s.seq)),
      payloads: JSON.stringify(stored.map((s) => s.payload)),
    };
    const [[err, id]] = (await this.redis
      .multi()
      .xadd(this.keys.dead, 'MAXLEN', '~', String(DEAD_LETTERS_MAX), '*', ...Object.entries(fields).flat())
      .xtrim(this.keys.dead, 'MINID', '~', String(now - DEAD_LETTERS_MAX_AGE_MS))
      .exec()) as [[Error | null, string], unknown];
    if (err) throw err;
    return id;
  }

  /** Trims entries past DEAD_LETTERS_MAX_AGE_MS (cheap; any worker may, now and then). */
  async trim(now = Date.now()): Promise<void> {
    await this.redis.xtrim(this.keys.dead, 'MINID', '~', String(now - DEAD_LETTERS_MAX_AGE_MS));
  }

  /** The newest `count` entries, newest first. */
  async list(count = 50): Promise<DeadLetter[]> {
    const rows = (await this.redis.xrevrange(this.keys.dead, '+', '-', 'COUNT', count)) as Array<[string, string[]]>;
    return rows.map(([id, f]) => toDeadLetter(id, f));
  }

  async get(id: string): Promise<DeadLetter | undefined> {
    if (!ENTRY_ID.test(id)) return undefined;
    const [row] = (await this.redis.xrange(this.keys.dead, id, id)) as Array<[string, string[]]>;
    return row ? toDeadLetter(row[0], row[1]) : undefined;
  }

  /** Removes an entry; false when there was none. */
  async remove(id: string): Promise<boolean> {
    return ENTRY_ID.test(id) && (await this.redis.xdel(this.keys.dead, id)) > 0;
  }

  async count(): Promise<number> {
    return this.redis.xlen(this.keys.dead);
  }

  /** Removes every entry of a person (erasure); returns how many. */
  async removeUser(user: string): Promise<number> {
    let removed = 0;
    let start = '-';
    for (;;) {
      const rows = (await this.redis.xrange(this.keys.dead, start, '+', 'COUNT', 500)) as Array<[string, string[]]>;
      const mine = rows.filter(([, f]) => fieldsOf(f).user === user).map(([id]) => id);
      if (mine.length > 0) removed += await this.redis.xdel(this.keys.dead, ...mine);
      if (rows.length < 500) return removed;
      start = `(${rows[rows.length - 1]![0]}`;
    }
  }

  /**
   * Queues the entry's messages again into their session through the normal enqueue path
   * (dedupe, sequence number, wake-up), under new ids `<id>:replay:<entry id>` so the original
   * ids' dedupe does not swallow them (a second replay of the same entry within the dedupe
   * time is a duplicate, not a second answer), then removes the entry. Nothing is queued
   * when any payload cannot be opened.
   */
  async replay(id: string, queue: Pick<TurnQueue, 'enqueue'>, cipher: TextCipher): Promise<{ entry: DeadLetter; queued: number; duplicate: number }> {
    const entry = await this.get(id);
    if (!entry) throw new NoSuchDeadLetterError(id);
    let messages: QueuedMessage[];
    try {
      messages = entry.payloads.map((p) => JSON.parse(cipher.open(p)) as QueuedMessage);
    } catch {
      throw new UnreadableDeadLetterError(id);
    }
    let queued = 0;
    for (const m of messages) {
      // receivedAt anew: the latency metric measures the replay, not the days it was parked.
      const r = await queue.enqueue({ ...m, sessionId: entry.sessionId, id: `${m.id}:replay:${entry.id}`, receivedAt: Date.now() });
      if (r === 'queued') queued++;
    }
    await this.remove(id);
    return { entry, queued, duplicate: messages.length - queued };
  }
}

function fieldsOf(flat: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i]!] = flat[i + 1]!;
  return out;
}

function toDeadLetter(id: string, flat: string[]): DeadLetter {
  const f = fieldsOf(flat);
  const list = <T>(s: string | undefined): T[] => {
    try {
      const v = JSON.parse(s ?? '[]') as unknown;
      return Array.isArray(v) ? (v as T[]) : [];
    } catch {
      return [];
    }
  };
  return {
    id,
    sessionId: f.session ?? '',
    user: f.user ?? '',
    reason: f.reason ?? 'unknown',
    attempts: Number(f.attempts ?? 0),
    at: Number(f.at ?? id.split('-')[0]),
    ids: list<string>(f.ids),
    seqs: list<number>(f.seqs),
    payloads: list<string>(f.payloads),
  };
}
