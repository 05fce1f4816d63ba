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
import { plainText, type TextCipher } from '../../session/cipher.js';
import type { RedisClient } from '../../session/redis/connection.js';
import type { EnqueueResult, InboxMessage, QueuedMessage, TurnQueue } from '../turn-queue.js';
import { GROUP, QueueKeys } from './queue-keys.js';
import { CLAIM, ENQUEUE, EXTEND, LET_GO, RELEASE } from './queue-scripts.js';

export interface RedisQueueOptions {
  client: RedisClient;
  prefix?: string;
  /** Encrypts queued message text at rest (the store's cipher). */
  cipher?: TextCipher;
  /** How long a message id is remembered for dedupe. Default 2 h (Slack retries for about an hour). */
  dedupeTtlSeconds?: number;
  /** Enqueue retries while Redis reconnects (a restart), before the adapter gives an honest "try again". Default 1,500 ms. */
  enqueueRetryMs?: number;
}

/** Queued messages left unanswered this long (no worker at all) expire. */
const INBOX_TTL_MS = 7 * 86_400_000;

type Scripted = RedisClient & {
  trtqEnqueue(seen: string, seq: string, inbox: string, ttl: number, payload: string, inboxTtl: number): Promise<number>;
  trtqClaim(owner: string, inbox: string, token: string, ttl: number): Promise<number>;
  trtqRelease(owner: string, inbox: string, token: string, upTo: string, ttl: number): Promise<number>;
  trtqExtend(owner: string, token: string, ttl: number): Promise<number>;
  trtqLetGo(owner: string, token: string): Promise<number>;
};

export function defineQueueScripts(client: RedisClient): Scripted {
  const c = client as Scripted;
  if (typeof c.trtqEnqueue === 'function') return c;
  client.defineCommand('trtqEnqueue', { numberOfKeys: 3, lua: ENQUEUE });
  client.defineCommand('trtqClaim', { numberOfKeys: 2, lua: CLAIM });
  client.defineCommand('trtqRelease', { numberOfKeys: 2, lua: RELEASE });
  client.defineCommand('trtqExtend', { numberOfKeys: 1, lua: EXTEND });
  client.defineCommand('trtqLetGo', { numberOfKeys: 1, lua: LET_GO });
  return c;
}

export class RedisTurnQueue implements TurnQueue {
  readonly name = 'Redis Streams';
  readonly keys: QueueKeys;
  readonly redis: Scripted;
  private readonly cipher: TextCipher;
  private readonly dedupeTtl: number;
  private readonly retryMs: number;

  constructor(opts: RedisQueueOptions) {
    this.redis = defineQueueScripts(opts.client);
    this.keys = new QueueKeys(opts.prefix);
    this.cipher = opts.cipher ?? plainText;
    this.dedupeTtl = opts.dedupeTtlSeconds ?? 7200;
    this.retryMs = opts.enqueueRetryMs ?? 1500;
  }

  async enqueue(m: QueuedMessage): Promise<EnqueueResult> {
    const payload = this.cipher.seal(JSON.stringify(m));
    const until = Date.now() + this.retryMs;
    for (let wait = 50; ; wait = Math.min(wait * 2, 400)) {
      try {
        const k = this.keys;
        const seq = await this.redis.trtqEnqueue(k.seen(m.sessionId, m.id), k.seq(m.sessionId), k.inbox(m.sessionId), this.dedupeTtl, payload, INBOX_TTL_MS);
        // The wake-up goes out for duplicates too: a retried delivery then heals a receiver that
        // died between storing a message and announcing it. Extra wake-ups cost one no-op claim.
        await this.wake(m.sessionId);
        return seq === 0 ? 'duplicate' : 'queued';
      } catch (err) {
        if (Date.now() + wait > until) throw err;
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }

  /** Announces that a session has messages waiting. */
  async wake(sessionId: string): Promise<void> {
    await this.redis.xadd(this.keys.stream, '*', 's', sessionId);
  }

  /** Creates the consumer group (idempotent); entries added before it exists are not missed. */
  async ensureGroup(): Promise<void> {
    try {
      await this.redis.xgroup('CREATE', this.keys.stream, GROUP, '0', 'MKSTREAM');
    } catch (err) {
      if (!String((err as Error).message).startsWith('BUSYGROUP')) throw err;
    }
  }

  /** The session's waiting messages, oldest first (at most `limit`). Undecodable ones come back with `text` null. */
  async inbox(sessionId: string, limit: number): Promise<Array<InboxMessage | { seq: number; text: null }>> {
    const raw = await this.redis.lrange(this.keys.inbox(sessionId), 0, limit - 1);
    return raw.map((r) => {
      const bar = r.indexOf('|');
      const seq = Number(r.slice(0, bar));
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

  claim(sessionId: string, token: string, ttlMs: number): Promise<number> {
    return this.redis.trtqClaim(this.keys.owner(sessionId), this.keys.inbox(sessionId), token, ttlMs);
  }
  release(sessionId: string, token: string, upTo: number, ttlMs: number): Promise<number> {
    return this.redis.trtqRelease(this.keys.owner(sessionId), this.keys.inbox(sessionId), token, String(upTo), ttlMs);
  }
  extend(sessionId: string, token: string, ttlMs: number): Promise<number> {
    return this.redis.trtqExtend(this.keys.owner(sessionId), token, ttlMs);
  }
  letGo(sessionId: string, token: string): Promise<number> {
    return this.redis.trtqLetGo(this.keys.owner(sessionId), token);
  }
}

export function newToken(consumer: string): string {
  return `${consumer}:${randomBytes(6).toString('hex')}`;
}

function fields(flat: unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[String(flat[i])] = flat[i + 1];
  return out;
}
