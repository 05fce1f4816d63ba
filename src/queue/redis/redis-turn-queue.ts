/**
 * The durable queue on Redis Streams with a consumer group.
 *
 * Receive: one script stores the message in its session's inbox (deduped by
 * the platform's id), then a wake-up naming the session goes on the stream.
 * Work: a worker reads a wake-up and tries to own the session's inbox; the
 * owner answers the inbox in turns until it is empty, and keeps its wake-up
 * unacknowledged meanwhile. If the owner dies, its ownership lapses (short TTL)
 * and its wake-up, idle in the group's pending list, is claimed by another
 * worker (XAUTOCLAIM), which takes the inbox over. Wake-ups that find the
 * inbox empty, or owned by a live worker, are simply acknowledged.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Cluster } from 'ioredis';
import { plainText, type TextCipher } from '../../redis/cipher.js';
import type { RedisClient } from '../../redis/connection.js';
import { NotQueuedError, QueueOutcomeUnknownError, type EnqueueResult, type InboxMessage, type QueuedMessage, type TurnQueue } from '../turn-queue.js';
import { GROUP, QueueKeys } from './queue-keys.js';
import { decodeTurnMessage, encodeTurnMessage, type TurnMessages } from '../turn-message.js';
import { ACK, CLAIM, ENQUEUE, EXTEND, FENCE, LET_GO, RELEASE } from './queue-scripts.js';

export interface RedisQueueOptions {
  client: RedisClient;
  prefix?: string;
  /** Encrypts queued message text at rest (the store's cipher). */
  cipher?: TextCipher;
  /** How long a message id is remembered for dedupe. Default 2 h (Slack retries for about an hour). */
  dedupeTtlSeconds?: number;
  /** Enqueue retries while Redis reconnects (a restart), before the outcome is settled instead. Default 1,500 ms. */
  enqueueRetryMs?: number;
  /** How long an enqueue without a reply is settled for (see FENCE) before its outcome is called unknown. Default 60 s. */
  resolveWithinMs?: number;
}

/** Longest wait for one fence's reply before it is sent again (within the resolution window). */
const FENCE_WAIT_MS = 2000;

/**
 * ioredis refuses a command on a connection closed by this process without sending it:
 * "Connection is closed.", or from a Cluster "Cluster is disconnected." or, when it tries to
 * connect again, "None of startup nodes is available".
 */
function isClosedConnection(err: unknown): boolean {
  return err instanceof Error && /^(Connection is closed|Cluster is disconnect|None of startup nodes is available)/.test(err.message);
}

/** Queued messages left unanswered this long (no worker at all) expire. */
const INBOX_TTL_MS = 7 * 86_400_000;

type Scripted = RedisClient & {
  trtqEnqueue(seen: string, seq: string, inbox: string, owner: string, ttl: number, payload: string, inboxTtl: number, token: string, ownerTtl: number, batch: number, order: string): Promise<[number, ...string[]]>;
  trtqClaim(owner: string, inbox: string, token: string, ttl: number, batch: number): Promise<[number, ...string[]]>;
  trtqRelease(owner: string, inbox: string, attempts: string, message: string, token: string, done: string, ttl: number, batch: number): Promise<[number, ...string[]]>;
  trtqExtend(owner: string, token: string, ttl: number): Promise<number>;
  trtqLetGo(owner: string, token: string): Promise<number>;
  trtqAck(stream: string, group: string, id: string): Promise<number>;
  trtqFence(seen: string, ttl: number): Promise<number>;
};

export function defineQueueScripts(client: RedisClient): Scripted {
  const c = client as Scripted;
  if (typeof c.trtqFence === 'function') return c;
  client.defineCommand('trtqEnqueue', { numberOfKeys: 4, lua: ENQUEUE });
  client.defineCommand('trtqClaim', { numberOfKeys: 2, lua: CLAIM });
  client.defineCommand('trtqRelease', { numberOfKeys: 4, lua: RELEASE });
  client.defineCommand('trtqExtend', { numberOfKeys: 1, lua: EXTEND });
  client.defineCommand('trtqLetGo', { numberOfKeys: 1, lua: LET_GO });
  client.defineCommand('trtqAck', { numberOfKeys: 1, lua: ACK });
  client.defineCommand('trtqFence', { numberOfKeys: 1, lua: FENCE });
  return c;
}

export class RedisTurnQueue implements TurnQueue {
  readonly name = 'Redis Streams';
  readonly keys: QueueKeys;
  readonly redis: Scripted;
  private readonly cipher: TextCipher;
  private readonly dedupeTtl: number;
  private readonly retryMs: number;
  private readonly resolveMs: number;
  private readonly cluster: boolean;

  constructor(opts: RedisQueueOptions) {
    this.cluster = opts.client instanceof Cluster;
    this.redis = defineQueueScripts(opts.client);
    this.keys = new QueueKeys(opts.prefix);
    this.cipher = opts.cipher ?? plainText;
    this.dedupeTtl = opts.dedupeTtlSeconds ?? 7200;
    this.retryMs = opts.enqueueRetryMs ?? 1500;
    this.resolveMs = opts.resolveWithinMs ?? 60_000;
  }

  /**
   * A worker in this process that can answer a session at once when nobody owns it: the
   * receiving instance then skips the wait for a worker to read the wake-up.
   */
  local: LocalWorker | undefined;

  /**
   * Stores the message, or says for certain that it was not stored. A store whose reply does
   * not come within the retry window (Redis stalled, restarting) is not guessed at: it is
   * settled with the FENCE script (queue-scripts.ts), retried until Redis answers or the
   * resolution window ends. Throws `NotQueuedError` when the message is not stored (and never
   * will be), `QueueOutcomeUnknownError` when Redis never answered; returns when it is stored.
   */
  async enqueue(m: QueuedMessage): Promise<EnqueueResult> {
    const payload = this.cipher.seal(JSON.stringify(m));
    const until = Date.now() + this.retryMs;
    const k = this.keys;
    const id = m.sessionId;
    // Whether any attempt may have reached Redis (one refused by an already closed connection never did).
    let maybeSent = false;
    for (let wait = 50; ; wait = Math.min(wait * 2, 400)) {
      const local = this.local?.reserve();
      // A connection being closed by this process (quit or disconnect called) never runs a
      // command issued after that: ioredis refuses it ("Connection is closed."), or Redis drops it
      // after QUIT. One that closes while a command is in flight rejects it the same way
      // although it may have run. (`manuallyClosing` is ioredis's own flag for this.)
      const ended = this.redis.status === 'end' || this.redis.status === 'disconnecting' || (this.redis as unknown as { manuallyClosing?: boolean }).manuallyClosing === true;
      const stored = this.bounded(this.redis.trtqEnqueue(k.seen(id, m.id), k.seq(id), k.inbox(id), k.owner(id), this.dedupeTtl, payload, INBOX_TTL_MS, local?.token ?? '', local?.ttlMs ?? 0, local?.batch ?? 0, validOrder(m.order)), until);
      // The wake-up goes out for duplicates and for messages answered here too: a retried
      // delivery then heals a receiver that died between storing a message and announcing it,
      // and if this instance dies mid-turn the wake-up is what another worker takes over.
      // On one server both commands share a connection, which runs them in order: they go out
      // together (one round trip). A Cluster may hold them on two nodes: the wake-up must wait.
      const woken = this.bounded(this.cluster ? stored.then(() => this.wake(id)) : this.wake(id), until);
      const [s, w] = await Promise.allSettled([stored, woken]);
      if (s.status === 'rejected') {
        local?.cancel();
        if (!(ended && isClosedConnection(s.reason))) maybeSent = true;
        if (Date.now() + wait > until) return maybeSent ? this.settle(m, s.reason) : Promise.reject(new NotQueuedError({ cause: s.reason }));
        await sleep(wait);
        continue;
      }
      const [seq, ...owned] = s.value;
      // Stored: from here only the wake-up is retried, and a message owned here is answered
      // here even if no wake-up could be sent (it then lacks only the crash safety net).
      const wakeId = w.status === 'fulfilled' ? w.value : await this.wakeWithin(id, until);
      if (local) {
        if (owned.length > 0) local.run(id, wakeId ?? '', this.decode(owned));
        else local.cancel();
      }
      // Stored, but not announced yet: announced as soon as Redis takes it (it is not lost,
      // and the person is not told to send it again).
      if (wakeId === undefined && owned.length === 0) this.wakeLater(id);
      return seq === 0 ? 'duplicate' : 'queued';
    }
  }

  /**
   * `p`, or a rejection at `until`: a command on a connection that will never answer (a
   * Cluster client left in 'close' holds commands forever) must not hold the enqueue past its
   * window. A command abandoned this way may still run later; the fence settles that.
   */
  private bounded<T>(p: Promise<T>, until: number): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('no reply in time')), Math.max(1, until - Date.now()))));
    return Promise.race([p, late]).finally(() => clearTimeout(timer));
  }

  /** Messages whose enqueue is being settled here, by id: a redelivery joins the same answer. */
  private readonly settling = new Map<string, Promise<EnqueueResult>>();

  /** Finds out whether an enqueue that got no reply stored the message (see FENCE). */
  private settle(m: QueuedMessage, cause: unknown): Promise<EnqueueResult> {
    const seen = this.keys.seen(m.sessionId, m.id);
    const pending = this.settling.get(seen);
    // A platform's redelivery while this one is being settled is the same message: one answer.
    // Whatever the outcome, the first delivery's caller is the one who tells the person.
    if (pending) return pending.then(() => 'duplicate' as const, () => 'duplicate' as const);
    const run = (async (): Promise<EnqueueResult> => {
      const until = Date.now() + this.resolveMs;
      for (let wait = 100; ; wait = Math.min(wait * 2, 2000)) {
        try {
          const stored = await this.bounded(this.redis.trtqFence(seen, this.dedupeTtl), Date.now() + FENCE_WAIT_MS);
          if (stored !== 1) throw new NotQueuedError({ cause });
          this.wakeLater(m.sessionId); // the attempt that stored it may not have announced it
          return 'queued';
        } catch (err) {
          if (err instanceof NotQueuedError) throw err;
          // A closed connection (shutdown) will not answer: unknown now, not in a minute.
          if (Date.now() + wait > until || this.redis.status === 'end') throw new QueueOutcomeUnknownError({ cause: err });
          await sleep(wait);
        }
      }
    })();
    this.settling.set(seen, run);
    void run.catch(() => undefined).finally(() => this.settling.delete(seen));
    return run;
  }

  /**
   * Waits (up to `timeoutMs`) for enqueues still being settled, so a shutdown does not close
   * the connection under them: each then ends with its outcome known and told.
   */
  async settled(timeoutMs: number): Promise<void> {
    if (this.settling.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled([...this.settling.values()]), new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
  }

  /** Announces a stored message in the background, retrying until Redis takes it (within the resolution window). */
  private wakeLater(sessionId: string): void {
    void this.wakeWithin(sessionId, Date.now() + this.resolveMs).then((wakeId) => {
      if (wakeId === undefined) this.onUnannounced?.(sessionId);
    });
  }

  /** Told when a stored message could not be announced within the resolution window (logged by the owner). */
  onUnannounced: ((sessionId: string) => void) | undefined;

  private async wakeWithin(sessionId: string, until: number): Promise<string | undefined> {
    for (let wait = 50; ; wait = Math.min(wait * 2, 400)) {
      try {
        return await this.bounded(this.wake(sessionId), Math.max(until, Date.now() + FENCE_WAIT_MS));
      } catch {
        if (Date.now() + wait > until || this.redis.status === 'end') return undefined;
        await sleep(wait);
      }
    }
  }

  /** Announces that a session has messages waiting; returns the wake-up's id. */
  async wake(sessionId: string): Promise<string> {
    return (await this.redis.xadd(this.keys.stream, '*', 's', sessionId)) ?? '';
  }

  /** Creates the consumer group (idempotent); entries added before it exists are not missed. */
  async ensureGroup(): Promise<void> {
    try {
      await this.redis.xgroup('CREATE', this.keys.stream, GROUP, '0', 'MKSTREAM');
    } catch (err) {
      if (!String((err as Error).message).startsWith('BUSYGROUP')) throw err;
    }
  }

  /** Undecodable messages (a changed key) come back with `text` null, so they can be dropped in order. */
  private decode(raw: string[]): Queued[] {
    return raw.map((r) => {
      const bar = r.indexOf('|');
      const seq = Number(r.slice(0, bar).split(':')[0]); // "<seq>" or "<seq>:<order>"
      try {
        return { ...(JSON.parse(this.cipher.open(r.slice(bar + 1))) as QueuedMessage), seq };
      } catch {
        return { seq, text: null };
      }
    });
  }

  /** Wake-ups waiting to be read, plus those being worked on (for metrics and the bench). */
  async depth(): Promise<{ waiting: number; pending: number }> {
    const groups = (await this.redis.xinfo('GROUPS', this.keys.stream).catch(() => [])) as unknown[][];
    for (const g of groups) {
      const f = fields(g);
      if (f.name === GROUP) return { waiting: Number(f.lag ?? 0), pending: Number(f.pending ?? 0) };
    }
    return { waiting: 0, pending: 0 };
  }

  /** Takes ownership of the session's inbox: 'empty', 'busy' (a live owner drains it), or its first `batch` messages. */
  async claim(sessionId: string, token: string, ttlMs: number, batch: number): Promise<'empty' | 'busy' | Queued[]> {
    const [code, ...raw] = await this.redis.trtqClaim(this.keys.owner(sessionId), this.keys.inbox(sessionId), token, ttlMs, batch);
    return code === 0 ? 'empty' : code === 1 ? 'busy' : this.decode(raw);
  }
  /** Drops the messages dealt with (by seq); 'released' (inbox empty), 'lost' (ownership lapsed) or the next `batch` messages. */
  async release(sessionId: string, token: string, done: number[], ttlMs: number, batch: number): Promise<'released' | 'lost' | Queued[]> {
    const [code, ...raw] = await this.redis.trtqRelease(this.keys.owner(sessionId), this.keys.inbox(sessionId), this.keys.attempts(sessionId), this.keys.message(sessionId), token, done.join(','), ttlMs, batch);
    return code === 0 ? 'lost' : code === 1 ? 'released' : this.decode(raw);
  }
  /** The inbox's first `batch` messages, for the owner (after waiting out the order window). */
  async peek(sessionId: string, batch: number): Promise<Queued[]> {
    return this.decode(await this.redis.lrange(this.keys.inbox(sessionId), 0, batch - 1));
  }
  extend(sessionId: string, token: string, ttlMs: number): Promise<number> {
    return this.redis.trtqExtend(this.keys.owner(sessionId), token, ttlMs);
  }
  /** Counts a failed try at the inbox's head; returns the count so far (reset when it is answered). */
  async failed(sessionId: string): Promise<number> {
    const k = this.keys.attempts(sessionId);
    const [[, n]] = (await this.redis.multi().incr(k).expire(k, 86_400).exec()) as [[unknown, number], unknown];
    return n;
  }

  /**
   * Each session's turn message (turn-message.ts): one key beside the inbox, in its slot,
   * written as soon as a turn posts, deleted by RELEASE with the messages it answered.
   */
  readonly turnMessages: TurnMessages = {
    get: async (sessionId, head) => decodeTurnMessage(await this.redis.get(this.keys.message(sessionId)), head),
    set: async (sessionId, head, m) => void (await this.redis.set(this.keys.message(sessionId), encodeTurnMessage(head, m), 'PX', INBOX_TTL_MS)),
  };

  /** Acknowledges and deletes a wake-up. */
  async ack(id: string): Promise<void> {
    if (id) await this.redis.trtqAck(this.keys.stream, GROUP, id);
  }
  letGo(sessionId: string, token: string): Promise<number> {
    return this.redis.trtqLetGo(this.keys.owner(sessionId), token);
  }
}

/** A slot reserved in a local worker for a message it may answer at once. */
export interface LocalSlot {
  token: string;
  ttlMs: number;
  batch: number;
  /** This instance owns the session: answer `messages`; `wakeId` is the message's wake-up, acknowledged when done. */
  run(sessionId: string, wakeId: string, messages: Queued[]): void;
  /** Not needed (another worker owns the session, or the message was a duplicate). */
  cancel(): void;
}

export interface LocalWorker {
  /** A slot when this worker has room (not stopping, below its concurrency), else undefined. */
  reserve(): LocalSlot | undefined;
}

/** A queued message as read back; `text` null when it cannot be decoded. */
export type Queued = InboxMessage | { seq: number; text: null };

export function newToken(consumer: string): string {
  return `${consumer}:${randomBytes(6).toString('hex')}`;
}

/** A Redis reply of alternating names and values (XINFO) as an object. */
export function fields(flat: unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[String(flat[i])] = flat[i + 1];
  return out;
}

/** The platform order as the scripts compare it (20 digits), or '' (arrival order) for anything else. */
function validOrder(order: string | undefined): string {
  return order !== undefined && /^\d{20}$/.test(order) ? order : '';
}
