/**
 * A worker: reads wake-ups from the stream's consumer group, owns one session's inbox at a time
 * per turn slot, answers it, and acknowledges the wake-up only when the inbox is empty. While it
 * works, it renews both its ownership and its wake-up's idle time; when it dies, both lapse and
 * another worker claims the wake-up (XAUTOCLAIM) and finishes the job.
 *
 * A wake-up for a session another worker owns is left pending, not acknowledged: if that owner
 * dies, this wake-up is what brings the session to a new owner. Lingering wake-ups are claimed
 * again after QUEUE_CLAIM_IDLE_MS and then find the inbox empty (acknowledged) or orphaned (answered).
 *
 * A head that keeps failing (its turn throws, or its reply cannot be posted) is retried alone,
 * then parked after MAX_ATTEMPTS in the dead-letter stream (dead-letters.ts) and the session
 * goes on with its later messages.
 *
 * Fast path: a message received by this instance when nobody owns its session is owned here at
 * once (the enqueue script takes ownership) and answered without waiting for the wake-up to be
 * read; its wake-up is acknowledged when done.
 */
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RedisClient } from '../../redis/connection.js';
import { errorCode } from '../../util/error-code.js';
import type { Logger } from '../../util/logger.js';
import { within } from '../../util/within.js';
import { MAX_ATTEMPTS, MAX_BATCH, ORDER_WINDOW_MS, UNAVAILABLE_REASON, countsAsTry, giveUp, nextBatch, orderWaitMs, runBatch, takeBatch, type RunnerDeps } from '../turn-runner.js';
import { DeadLetters } from './dead-letters.js';
import type { InboxMessage } from '../turn-queue.js';
import { forgetConsumer, pruneConsumers } from './consumers.js';
import { GROUP } from './queue-keys.js';
import { fieldOf, leadingUnreadable } from './wake-entries.js';
import { newToken, type LocalSlot, type LocalWorker, type Queued, type RedisTurnQueue } from './redis-turn-queue.js';

export interface QueueWorkerOptions {
  queue: RedisTurnQueue;
  /** A connection of its own: a blocking read would hold every other command on a shared one. */
  reader: RedisClient;
  runner: RunnerDeps;
  logger: Logger;
  /** Name in the consumer group. Default host:pid:random. */
  consumer?: string;
  /** Sessions worked on at once. Default 32. */
  concurrency?: number;
  /** A wake-up idle this long is presumed orphaned (its worker died) and claimed. Default 3 s. */
  claimIdleMs?: number;
  /** Ownership of an inbox lapses this long after its worker stops renewing it. Default 1.5 s (at most half of claimIdleMs). */
  ownerTtlMs?: number;
  /** Longest blocking read (also bounds how fast stop() interrupts reading). Default 1 s. */
  blockMs?: number;
  /** Consumers idle this long with nothing pending (left by crashed processes) are removed. Default 1 h. */
  pruneIdleMs?: number;
}

/**
 * done: inbox empty, acknowledge; retry: leave the wake-up for a retry after the claim idle
 * time; linger: ownership lapsed, leave the wake-up (another owner, or nobody, has the rest);
 * handback: shutting down, pass the session on at once.
 */
type Outcome = 'done' | 'retry' | 'linger' | 'handback';
interface Active {
  sessionId: string;
  token?: string;
  /** A stream entry this worker holds (renewed while it works); absent for fast-path turns. */
  entryId?: string;
  /** When the current turn started: a turn past MAX_TURN_MS stops being renewed. */
  since: number;
  /** Aborted when the session is handed back: the turn posts and records nothing more. */
  abort: AbortController;
  handedBack?: boolean;
  /**
   * Wake-ups read for this session while this turn owned it. Pending (renewed with the turn) until
   * it ends; then, if it ended cleanly, each is processed again: its message was answered in this
   * drain (the claim finds the inbox empty: acknowledged) or arrived just after the release
   * (answered at once). Without this they lingered a claim idle time and were then taken for a
   * dead worker's.
   */
  riders?: string[];
  done: Promise<void>;
}

/** Longest a single turn may hold a session; after this its ownership lapses and another worker takes over. */
const MAX_TURN_MS = 120_000;
/** After the shutdown timeout, how long aborted turns get to finish recording a reply already posted. */
const ABORT_GRACE_MS = 1000;

export class QueueWorker implements LocalWorker {
  readonly consumer: string;
  /** Turns answered, wake-ups taken over from dead workers, sessions handed back at shutdown. */
  readonly stats = { turns: 0, reclaimed: 0, handedBack: 0 };
  private readonly q: RedisTurnQueue;
  private readonly dead: DeadLetters;
  private readonly active = new Map<string, Active>();
  private readonly concurrency: number;
  private readonly claimIdleMs: number;
  private readonly ownerTtlMs: number;
  private readonly blockMs: number;
  private readonly pruneIdleMs: number;
  private stopping = false;
  private reserved = 0;
  private reclaims = 0;
  private reading: Promise<void> | undefined;
  private wakeReader: () => void = () => undefined;
  private readonly stopped = new Promise<void>((r) => (this.wakeReader = r));
  private timers: NodeJS.Timeout[] = [];

  constructor(private readonly opts: QueueWorkerOptions) {
    this.q = opts.queue;
    this.dead = new DeadLetters(this.q.redis, this.q.keys);
    this.consumer = opts.consumer ?? `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
    this.concurrency = opts.concurrency ?? 32;
    this.claimIdleMs = opts.claimIdleMs ?? 3000;
    this.ownerTtlMs = Math.min(opts.ownerTtlMs ?? 1500, Math.floor(this.claimIdleMs / 2));
    this.blockMs = opts.blockMs ?? 1000;
    this.pruneIdleMs = opts.pruneIdleMs ?? 3_600_000;
  }

  async start(): Promise<void> {
    await this.q.ensureGroup();
    this.timers.push(setInterval(() => void this.renew(), Math.max(100, Math.floor(this.ownerTtlMs / 3))));
    this.timers.push(setInterval(() => void this.reclaim(), Math.max(100, Math.floor(this.claimIdleMs / 4))));
    this.reading = this.readLoop();
    this.q.local = this;
    void this.reclaim(); // at once: a restarted instance picks up orphaned wake-ups without waiting a round
  }

  reserve(): LocalSlot | undefined {
    if (this.stopping || this.active.size + this.reserved >= this.concurrency) return undefined;
    this.reserved++;
    const token = newToken(this.consumer);
    let settled = false;
    const settle = () => {
      if (settled) return false;
      settled = true;
      this.reserved--;
      return true;
    };
    return {
      token,
      ttlMs: this.ownerTtlMs,
      batch: MAX_BATCH,
      cancel: () => void settle(),
      run: (sessionId, wakeId, messages) => {
        if (!settle()) return;
        const key = `local:${token}`;
        this.track(key, { sessionId, token }, (a) => this.finish(key, a, this.drain(a, messages), wakeId));
      },
    };
  }

  /**
   * Stops reading, lets running turns finish for up to `timeoutMs`, then hands the sessions
   * still in progress back (their turns aborted: nothing more is posted or recorded; ownership
   * released; a fresh wake-up for another worker) so nobody waits for a claim idle time.
   */
  async stop(timeoutMs = 10_000): Promise<{ unfinished: number }> {
    if (this.stopping) return { unfinished: 0 };
    this.stopping = true;
    this.wakeReader();
    if (this.q.local === this) this.q.local = undefined;
    for (const t of this.timers) clearInterval(t);
    this.opts.reader.disconnect(); // interrupts the blocking read
    const settled = () => Promise.allSettled([this.reading, ...[...this.active.values()].map((a) => a.done)]);
    await within(settled(), timeoutMs);
    if (this.active.size > 0) {
      for (const a of this.active.values()) a.abort.abort();
      await within(settled(), ABORT_GRACE_MS); // a reply already posted gets its record
    }
    const left = [...this.active.entries()];
    for (const [key, a] of left) await this.handBack(key, a, a.entryId).catch((err: unknown) => this.opts.logger.warn({ sessionId: a.sessionId, err: errorCode(err) }, 'hand-back failed; the wake-up will be claimed when idle'));
    await forgetConsumer(this.q, this.consumer);
    return { unfinished: left.length };
  }

  private async readLoop(): Promise<void> {
    while (!this.stopping) {
      if (this.active.size >= this.concurrency) {
        await Promise.race([...[...this.active.values()].map((a) => a.done), this.stopped]);
        continue;
      }
      let res: Array<[string, Array<[string, string[]]>]> | null;
      try {
        res = (await this.opts.reader.xreadgroup(
          'GROUP', GROUP, this.consumer, 'COUNT', this.concurrency - this.active.size, 'BLOCK', this.blockMs, 'STREAMS', this.q.keys.stream, '>',
        )) as typeof res;
      } catch (err) {
        if (this.stopping) return;
        if (String((err as Error).message).startsWith('NOGROUP')) await this.q.ensureGroup().catch(() => undefined); // Redis restarted empty
        else this.opts.logger.warn({ err: errorCode(err) }, 'queue read failed; retrying');
        await sleep(500);
        continue;
      }
      for (const [, entries] of res ?? []) for (const [id, f] of entries) this.spawn(id, f);
    }
  }

  /** Takes over wake-ups whose worker stopped renewing them (it died), and drops deleted ones. */
  private async reclaim(): Promise<void> {
    if (this.stopping) return;
    try {
      if (this.reclaims++ % 40 === 0) {
        void this.dead.trim().catch(() => undefined); // dead letters past their age (they are also trimmed as they are added)
        await pruneConsumers(this.q, this.consumer, this.pruneIdleMs);
      }
      let cursor = '0-0';
      do {
        // No more than there is room for: what is left stays idle for another worker, or the next round.
        const room = this.concurrency - this.active.size;
        if (room <= 0) break;
        const [next, entries, deleted] = (await this.q.redis.xautoclaim(this.q.keys.stream, GROUP, this.consumer, this.claimIdleMs, cursor, 'COUNT', Math.min(50, room))) as [string, Array<[string, string[]] | null>, string[]?];
        if (deleted?.length) await this.q.redis.xack(this.q.keys.stream, GROUP, ...deleted);
        for (const e of entries) {
          if (!e || this.active.has(e[0])) continue;
          this.spawn(e[0], e[1], true);
        }
        cursor = next;
      } while (cursor !== '0-0' && !this.stopping);
    } catch (err) {
      this.opts.logger.warn({ err: errorCode(err) }, 'queue reclaim failed; retrying');
    }
  }

  /** Renews ownership and resets the idle time of wake-ups in progress (JUSTID: no delivery count). */
  private async renew(): Promise<void> {
    // A turn stuck past MAX_TURN_MS is no longer renewed: its session passes to another worker.
    const owned = [...this.active.values()].filter((a) => a.token && Date.now() - a.since < MAX_TURN_MS);
    if (owned.length === 0) return;
    const entries = owned.flatMap((a) => [...(a.entryId ? [a.entryId] : []), ...(a.riders ?? [])]);
    try {
      await Promise.all([
        entries.length > 0 ? this.q.redis.call('XCLAIM', this.q.keys.stream, GROUP, this.consumer, '0', ...entries, 'JUSTID') : undefined,
        ...owned.map(async (a) => {
          if ((await this.q.extend(a.sessionId, a.token!, this.ownerTtlMs)) === 0) this.opts.logger.warn({ sessionId: a.sessionId }, 'queue ownership lapsed during a turn');
        }),
      ]);
    } catch (err) {
      this.opts.logger.warn({ err: errorCode(err) }, 'queue renewal failed');
    }
  }

  private spawn(id: string, f: string[], reclaimed = false): void {
    const sessionId = fieldOf(f);
    this.track(id, { sessionId: sessionId ?? '', entryId: id }, (a) => (sessionId ? this.process(id, a, reclaimed) : this.q.ack(id)));
  }

  /** Runs `work` for a session as one of this worker's active slots (renewed, counted, stopped with it). */
  private track(key: string, init: Pick<Active, 'sessionId' | 'token' | 'entryId'>, work: (a: Active) => Promise<void>): void {
    const a: Active = { ...init, since: Date.now(), abort: new AbortController(), done: Promise.resolve() };
    this.active.set(key, a);
    a.done = work(a)
      .catch((err: unknown) => this.opts.logger.error({ sessionId: a.sessionId, err: errorCode(err) }, 'queued turn failed; it will be retried'))
      .finally(() => this.active.delete(key));
  }

  private async process(id: string, a: Active, reclaimed: boolean): Promise<void> {
    // This instance owns the session already (a turn in progress): the claim would say "busy".
    // The wake-up rides with that turn and is looked at again when it ends.
    const owner = reclaimed ? undefined : this.ownerOf(a.sessionId, a);
    if (owner) {
      (owner.riders ??= []).push(id);
      return;
    }
    const token = newToken(this.consumer);
    const claimed = await this.q.claim(a.sessionId, token, this.ownerTtlMs, MAX_BATCH);
    if (claimed === 'empty') return this.q.ack(id);
    if (claimed === 'busy') return; // left pending: see the note at the top
    if (reclaimed) {
      // An idle wake-up found messages nobody owns: their worker stopped (died) mid-way.
      this.stats.reclaimed++;
      this.opts.logger.info({ sessionId: a.sessionId }, 'taking over a turn from a stopped worker');
    }
    a.token = token;
    await this.finish(id, a, this.drain(a, claimed), id);
  }

  private ownerOf(sessionId: string, except: Active): Active | undefined {
    for (const a of this.active.values()) if (a !== except && a.token && a.sessionId === sessionId) return a;
    return undefined;
  }

  /** The wake-ups that rode with a finished turn, processed again now that it released the session. */
  private respawnRiders(a: Active): void {
    for (const id of a.riders?.splice(0) ?? []) if (!this.stopping && !this.active.has(id)) this.spawn(id, ['s', a.sessionId]);
  }

  /** Acknowledges the wake-up when the inbox is done, hands the session back, or leaves it for a retry. */
  private async finish(key: string, a: Active, draining: Promise<Outcome>, wakeId: string): Promise<void> {
    let outcome: Outcome = 'retry';
    try {
      outcome = await draining;
    } finally {
      if (outcome === 'done') {
        // Released in Redis already (drain() dropped the token then): a wake-up read while the
        // ack is on its way must claim the session, not see it as this worker's and wait a
        // claim idle time (a fast typist's 3 s).
        a.token = undefined;
        this.respawnRiders(a);
        await this.q.ack(wakeId);
      }
      else if (outcome === 'handback') await this.handBack(key, a, wakeId);
      else if (outcome === 'linger') a.token = undefined;
      else {
        // Left pending: after claimIdleMs any worker (this one too) claims it again.
        const token = a.token!;
        a.token = undefined;
        await this.q.letGo(a.sessionId, token).catch(() => undefined);
      }
    }
  }

  /** Answers the inbox turn by turn until it is empty. */
  private async drain(a: Active, first: Queued[]): Promise<Outcome> {
    const { sessionId } = a;
    let inbox = first;
    // The head failed before (its attempts count is kept until it is answered): try it alone.
    // Only the drain's first batch can follow a failure (a failed try ends the drain, and each
    // answered batch resets the count in RELEASE), and a batch of one needs no look.
    let isolating: boolean | undefined;
    let waited = false;
    for (;;) {
      if (this.stopping) return 'handback';
      a.since = Date.now();
      // Messages typed just before these may still be on their way (another instance has them):
      // wait out the order window once per batch, then read the inbox again, in the person's order.
      const wait = waited ? 0 : orderWaitMs(takeBatch(inbox.filter((m): m is InboxMessage => m.text !== null)), this.opts.runner.orderWindowMs ?? ORDER_WINDOW_MS);
      waited = true;
      if (wait > 0) {
        await sleep(wait);
        inbox = await this.q.peek(sessionId, MAX_BATCH);
        continue;
      }
      let done: number[] = [];
      const unreadable = leadingUnreadable(inbox);
      if (unreadable.length > 0) {
        done = unreadable;
        this.opts.logger.error({ sessionId }, 'a queued message cannot be decrypted or parsed (HISTORY_ENCRYPTION_KEY changed?); dropped');
      } else if (inbox.length > 0) {
        const readable = inbox as InboxMessage[];
        if (isolating === undefined && takeBatch(readable).length > 1) isolating = Number(await this.q.redis.get(this.q.keys.attempts(sessionId))) > 0;
        const batch = nextBatch(readable, isolating === true);
        let outcome: { done: number[]; retry: boolean };
        let reason = UNAVAILABLE_REASON;
        let threw = false;
        try {
          outcome = await runBatch(this.opts.runner, sessionId, batch, { signal: a.abort.signal, messages: this.q.turnMessages });
        } catch (err) {
          if (a.abort.signal.aborted) return 'handback';
          if (!countsAsTry(err)) throw err;
          // A turn that throws (a malformed field, a bug) is a failed try like an undelivered reply.
          reason = errorCode(err);
          threw = true;
          outcome = { done: batch.map((m) => m.seq), retry: true };
        }
        if (a.abort.signal.aborted) return 'handback';
        if (outcome.retry) {
          // Retried after the claim idle time, the head alone; a head that keeps failing (a
          // platform that refuses the reply, a bug) is parked after MAX_ATTEMPTS, honestly, not
          // retried forever, and the session's later messages go on.
          const tries = await this.q.failed(sessionId).catch(() => 0);
          if (tries < MAX_ATTEMPTS) {
            if (threw) this.opts.logger.warn({ sessionId, err: reason, attempt: tries }, 'queued turn failed; it will be retried');
            return 'retry';
          }
          // Parked and told once; a failure to tell (the outlet itself throws) must not keep the
          // message at the head, or the session would stay blocked behind it.
          const deadLetter = await this.dead.park(sessionId, batch, reason, tries);
          if (deadLetter !== undefined) {
            await giveUp(this.opts.runner, sessionId, batch, { reason, attempts: tries, deadLetter, messages: this.q.turnMessages }).catch((err: unknown) =>
              this.opts.logger.error({ sessionId, err: errorCode(err) }, 'could not tell the person a message was given up'),
            );
          }
        }
        isolating ??= false;
        done = outcome.done;
        this.stats.turns++;
      }
      const next = await this.q.release(sessionId, a.token!, done, this.ownerTtlMs, MAX_BATCH);
      waited = false;
      if (next === 'released') {
        // Not this worker's any more, from this very moment: a wake-up read in the same tick
        // claims the session (see finish()).
        a.token = undefined;
        return 'done';
      }
      // Ownership lapsed (a stall, a Redis restart): messages may still wait with no owner, so
      // the wake-up stays pending; claimed again, it finds them or an empty inbox.
      if (next === 'lost') return 'linger';
      inbox = next;
    }
  }

  private async handBack(key: string, a: Active, wakeId: string | undefined): Promise<void> {
    if (a.handedBack) return; // stop() and the turn's own ending may both get here
    a.handedBack = true;
    if (a.token) await this.q.letGo(a.sessionId, a.token);
    await this.q.wake(a.sessionId);
    if (wakeId) await this.q.ack(wakeId);
    this.active.delete(key);
    this.stats.handedBack++;
  }

}
