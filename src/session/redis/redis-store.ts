/**
 * The Redis session store: the design note's key layout (see keys.ts), a turn
 * in two round trips (OPEN: lock + load; COMMIT: write + unlock, with the
 * active-session and per-user indexes updated in the same round trip), a
 * versioned state so a stale commit fails instead of overwriting, and
 * optional encryption of every stored message text.
 *
 * A person's preferences (`<p>:user:{<platform:user>}:prefs`) ride along without another
 * round trip. The issue asked to fold the read into OPEN, but OPEN touches the session's
 * keys (tagged `{<session id>}`) and the prefs key is tagged by person so it follows them into
 * every session: on a Cluster they are in different slots, and one script may only touch one
 * slot. So `open` sends the prefs HGETALL next to OPEN in the same tick and waits for both
 * (written back to back, no wait in between; on a Cluster each goes to its own node, in
 * parallel): still one round trip, counted as one by `roundTrips`. A plain commit likewise
 * refreshes the committing person's prefs TTL with an EXPIRE beside COMMIT. A commit that
 * changes prefs costs a second trip, after COMMIT: a stale commit must not write them and
 * no single step can make a write in one slot depend on a script in another. Prefs change
 * rarely (a `settings` command, a country first told by the platform), so the hot path stays
 * at two trips a turn.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { plainText, type TextCipher } from '../../redis/cipher.js';
import {
  SessionBusyError,
  StaleSessionError,
  StoreUnavailableError,
  userKey,
  type EraseOptions,
  type HistoryEntry,
  type OpenOptions,
  type OpenSession,
  type SessionCommit,
  type SessionRecord,
  type SessionStore,
  type UserExport,
} from '../store.js';
import type { RedisClient } from '../../redis/connection.js';
import { KeyLayout, assertSessionId } from './keys.js';
import { ANNOTATE, EXTEND, OPEN, RELEASE, WRITE_PREFS } from './scripts.js';
import { isEmptyPrefs, prefsFromFields, prefsToFields, type Prefs } from '../prefs.js';
import { historyDigest, pairsToObject, toMeta } from './records.js';
import { openEntry, stateAfterErase } from './sealed.js';
import { COMMIT_WITH_PARTICIPANT, ERASE_SHARED } from './shared-scripts.js';
import { keptAfterErase, metaUserAfter, otherParticipants, ownPart, userIdOf } from '../shared.js';

export interface RedisStoreOptions {
  client: RedisClient;
  /** Key prefix (REDIS_KEY_PREFIX). Default `trt`. */
  prefix?: string;
  /** History entries kept per session (HISTORY_MAX). Default 200. */
  historyMax?: number;
  /** Session keys expire after this much inactivity (SESSION_TTL_DAYS). Default 30 days. */
  ttlSeconds?: number;
  /** Lock lifetime; short, so a crashed instance frees it soon. Extended every third of it while a turn runs. Default 3 s. */
  lockTtlMs?: number;
  /** Longest wait for another turn of the same session. Default 10 s. */
  lockWaitMs?: number;
  /** Encrypts state and history (HISTORY_ENCRYPTION_KEY). Default: plain text. */
  cipher?: TextCipher;
  /** Capped length of the audit stream. Default 10,000. */
  auditMaxLen?: number;
  /** Display name, e.g. "Redis redis://127.0.0.1:6379". */
  description?: string;
}

interface Scripts {
  trtOpen(lock: string, state: string, meta: string, token: string, ttlMs: number): Promise<[number, string?, string[]?]>;
  trtCommit(...args: Array<string | number>): Promise<number>;
  trtRelease(lock: string, token: string): Promise<number>;
  trtExtend(lock: string, token: string, ttlMs: number): Promise<number>;
  trtAnnotate(meta: string, history: string, entry: string, historyMax: number): Promise<number>;
  trtEraseShared(...args: Array<string | number>): Promise<number>;
  trtWritePrefs(key: string, ...args: Array<string | number>): Promise<number>;
}

export class RedisSessionStore implements SessionStore {
  readonly name: string;
  readonly keys: KeyLayout;
  readonly lockRenewMs: number;
  private readonly redis: RedisClient & Scripts;
  /** The underlying client, for companions sharing the connection (marks). */
  get client(): RedisClient {
    return this.redis;
  }
  private readonly historyMax: number;
  private readonly ttlSeconds: number;
  private readonly lockTtlMs: number;
  private readonly lockWaitMs: number;
  /** Shared with the turn queue, whose inbox holds message text until it is answered. */
  readonly cipher: TextCipher;
  private readonly auditMaxLen: number;
  private trips = 0;

  constructor(opts: RedisStoreOptions) {
    this.keys = new KeyLayout(opts.prefix ?? 'trt');
    this.historyMax = opts.historyMax ?? 200;
    this.ttlSeconds = opts.ttlSeconds ?? 30 * 86_400;
    this.lockTtlMs = opts.lockTtlMs ?? 3000;
    this.lockRenewMs = Math.max(50, Math.floor(this.lockTtlMs / 3));
    this.lockWaitMs = opts.lockWaitMs ?? 10_000;
    this.cipher = opts.cipher ?? plainText;
    this.auditMaxLen = opts.auditMaxLen ?? 10_000;
    this.name = `${opts.description ?? 'Redis'}${opts.cipher ? ', history encrypted' : ''}`;
    const client = opts.client as Redis;
    client.defineCommand('trtOpen', { numberOfKeys: 3, lua: OPEN });
    client.defineCommand('trtCommit', { numberOfKeys: 5, lua: COMMIT_WITH_PARTICIPANT });
    client.defineCommand('trtRelease', { numberOfKeys: 1, lua: RELEASE });
    client.defineCommand('trtExtend', { numberOfKeys: 1, lua: EXTEND });
    client.defineCommand('trtAnnotate', { numberOfKeys: 2, lua: ANNOTATE });
    client.defineCommand('trtEraseShared', { numberOfKeys: 6, lua: ERASE_SHARED });
    client.defineCommand('trtWritePrefs', { numberOfKeys: 1, lua: WRITE_PREFS });
    this.redis = opts.client as RedisClient & Scripts;
  }

  async open<S>(sessionId: string, options: OpenOptions = {}): Promise<OpenSession<S>> {
    assertSessionId(sessionId);
    const token = randomUUID();
    const deadline = Date.now() + this.lockWaitMs;
    const prefsKey = options.prefsOf === undefined ? undefined : this.keys.prefs(options.prefsOf);
    for (let attempt = 0; ; attempt++) {
      // The prefs read goes beside OPEN, not inside it (another slot on a Cluster: see the header).
      const [[got, state, metaPairs], prefsHash] = await this.call(() =>
        Promise.all([
          this.redis.trtOpen(this.keys.lock(sessionId), this.keys.state(sessionId), this.keys.meta(sessionId), token, this.lockTtlMs),
          prefsKey === undefined ? undefined : this.redis.hgetall(prefsKey),
        ]),
      );
      if (got === 1) {
        const withPrefs = prefsHash === undefined ? {} : { prefs: prefsFromFields(prefsHash, (v) => this.cipher.open(v)) };
        const meta = pairsToObject(metaPairs ?? []);
        const version = Number(meta.version ?? 0);
        // The version comes from meta even when state is gone (evicted) or unreadable (a lost
        // key): the engine then starts the session over and its commit still matches.
        if (!state && version === 0) return { sessionId, record: null, lockToken: token, ...withPrefs };
        return { sessionId, record: { state: this.decodeState<S>(sessionId, state), meta: toMeta(meta), version }, lockToken: token, ...withPrefs };
      }
      if (Date.now() >= deadline) throw new SessionBusyError(sessionId);
      // Another turn of this session runs (here or on another instance): back off a little, with jitter.
      await sleep(Math.min(5 * 2 ** attempt, 100) * (0.5 + Math.random()));
    }
  }

  /** Decodes stored state; null when it is missing or cannot be decrypted or parsed (never throws with the lock held). */
  private decodeState<S>(sessionId: string, raw: string | undefined): S {
    if (!raw) return null as S;
    try {
      return JSON.parse(this.cipher.open(raw)) as S;
    } catch (err) {
      this.onDecodeError?.(sessionId, err);
      return null as S;
    }
  }

  /** Called when a session's state cannot be decoded (wrong key, damaged record); no message text is passed. */
  onDecodeError?: (sessionId: string, err: unknown) => void;

  async commit<S>(session: OpenSession<S>, change: SessionCommit<S>): Promise<void> {
    const id = session.sessionId;
    const m = change.meta;
    const metaPairs = [
      'platform', m.platform, 'user', m.userId, 'tenant', m.tenant ?? '', 'created', m.createdAt,
      'last_active', m.lastActiveAt, 'turn_count', String(m.turnCount), 'schema_version', String(m.schemaVersion),
    ];
    const entries = change.append.map((e) => this.cipher.seal(JSON.stringify(e)));
    const now = Date.now();
    const ttlMs = this.ttlSeconds * 1000;
    const who = userKey(m.platform, m.userId);
    // Issued in the same tick: written back to back, one round trip (per node on a Cluster).
    const [version] = await this.call(() =>
      Promise.all([
        this.redis.trtCommit(
          ...this.keys.session(id),
          this.keys.participants(id),
          session.lockToken,
          session.record?.version ?? 0,
          this.cipher.seal(JSON.stringify(change.state)),
          this.historyMax,
          this.ttlSeconds,
          change.resetHistory ? '1' : '0',
          metaPairs.length / 2,
          ...metaPairs,
          ...entries,
        ),
        this.redis.zadd(this.keys.active, now, id),
        this.redis.sadd(this.keys.user(who), id),
        this.redis.pexpire(this.keys.user(who), ttlMs),
        // A person active in a session keeps their prefs as long as their sessions (no-op without any).
        this.redis.pexpire(this.keys.prefs(who), ttlMs),
      ]),
    );
    if (version === -1) throw new StaleSessionError(id);
    // Changed prefs: a second trip, only after the commit held (see the header). Should it fail,
    // the turn is reported as a store failure ("try again"), though its session was committed.
    if (change.prefs) await this.writePrefs(change.prefs.userKey, change.prefs.value);
  }

  /** Replaces a person's stored prefs (sealed; empty deletes them), with the store's retention. */
  private async writePrefs(key: string, value: Prefs): Promise<void> {
    const { set, unset } = prefsToFields(value, (v) => this.cipher.seal(v));
    await this.call(() => this.redis.trtWritePrefs(this.keys.prefs(key), this.ttlSeconds, set.length / 2, ...set, ...unset));
  }

  async release(session: OpenSession<unknown>): Promise<void> {
    await this.call(() => this.redis.trtRelease(this.keys.lock(session.sessionId), session.lockToken));
  }

  /** Extends the lock while a slow step (an LLM call) runs; false when the lock was lost. */
  async extend(session: OpenSession<unknown>): Promise<boolean> {
    return (await this.call(() => this.redis.trtExtend(this.keys.lock(session.sessionId), session.lockToken, this.lockTtlMs))) === 1;
  }

  async annotate(sessionId: string, entry: HistoryEntry): Promise<void> {
    assertSessionId(sessionId);
    const sealed = this.cipher.seal(JSON.stringify(entry));
    await this.call(() => this.redis.trtAnnotate(this.keys.meta(sessionId), this.keys.history(sessionId), sealed, this.historyMax));
  }

  async history(sessionId: string, limit = this.historyMax): Promise<HistoryEntry[]> {
    assertSessionId(sessionId);
    const raw = await this.call(() => this.redis.lrange(this.keys.history(sessionId), -limit, -1));
    return raw.map((r) => JSON.parse(this.cipher.open(r)) as HistoryEntry);
  }

  /**
   * Erases a user's data from every session in their index (see SessionStore.eraseUser
   * and ../shared.ts for shared sessions). Each session is erased under its own lock, so a
   * turn running elsewhere either finishes first (and is erased) or starts after
   * (a fresh session): it never re-creates half of an erased one. `held` is a session
   * whose lock the caller already holds (the one in which "forget" was confirmed).
   */
  async eraseUser(key: string, actor = 'user', held?: OpenSession<unknown>, options: EraseOptions = {}): Promise<string[]> {
    const ids = await this.call(() => this.redis.smembers(this.keys.user(key)));
    const whole: string[] = [];
    for (const id of ids) {
      const mine = held?.sessionId === id;
      const token = mine ? '' : await this.lockForErase(id);
      const kept = await this.eraseFrom(id, key, token, mine ? options.heldState : undefined, options.scrubState);
      if (!kept) whole.push(id);
    }
    // The index and the prefs share the person's slot: one DEL.
    await this.call(() => Promise.all([...(whole.length > 0 ? [this.redis.zrem(this.keys.active, ...whole)] : []), this.redis.del(this.keys.user(key), this.keys.prefs(key))]));
    await this.audit({ actor, action: 'erase', target: key, sessions: String(ids.length), shared: String(ids.length - whole.length) });
    return ids;
  }

  /**
   * Erases one person from one session: the whole session when no one else took part,
   * else their part only (ERASE_SHARED, applied to the session exactly as read; read
   * again when a delivery note slipped in). `token` is an erase lock to free ('' for none).
   * True when the session was kept for the others.
   */
  private async eraseFrom(id: string, asker: string, token: string, heldState: unknown, scrub?: (state: unknown) => unknown): Promise<boolean> {
    for (let attempt = 0; attempt < 10; attempt++) {
      const [metaPairs, stored, raw, sealedState] = await this.call(() =>
        Promise.all([this.redis.hgetall(this.keys.meta(id)), this.redis.smembers(this.keys.participants(id)), this.redis.lrange(this.keys.history(id), 0, -1), this.redis.get(this.keys.state(id))]),
      );
      const meta = toMeta(metaPairs);
      const entries = raw.map((r) => openEntry(this.cipher, r)); // unreadable: no owner, so erased
      const others = metaPairs.version ? otherParticipants(asker, meta, stored, entries) : [];
      if (others.length === 0) {
        // One slot per session; the lock goes too.
        await this.call(() => this.redis.del(...this.keys.session(id), this.keys.participants(id), this.keys.llmCache(id)));
        return false;
      }
      const kept = raw.filter((_, i) => keptAfterErase(asker, entries[i]));
      const user = metaUserAfter(asker, meta, others);
      const state = stateAfterErase(this.cipher, heldState, sealedState, scrub);
      const applied = await this.call(() =>
        this.redis.trtEraseShared(
          this.keys.lock(id), this.keys.state(id), this.keys.history(id), this.keys.meta(id), this.keys.participants(id), this.keys.llmCache(id),
          token,
          metaPairs.version!,
          historyDigest(raw),
          user === meta.userId ? '' : user,
          state === undefined ? '' : this.cipher.seal(JSON.stringify(state)),
          others.length,
          ...others,
          ...kept,
        ),
      );
      if (applied === 1) return true;
    }
    throw new StoreUnavailableError(`session ${id} kept changing during erasure; try again`);
  }

  /** Waits for a session's lock (as a turn would) so erasure never interleaves with a turn; its token, or '' when not taken. */
  private async lockForErase(id: string): Promise<string> {
    const deadline = Date.now() + this.lockWaitMs;
    const token = `erase-${randomUUID()}`;
    for (let attempt = 0; ; attempt++) {
      const ok = await this.call(() => this.redis.set(this.keys.lock(id), token, 'PX', this.lockTtlMs, 'NX'));
      if (ok === 'OK') return token;
      if (Date.now() >= deadline) return ''; // past the deadline, erase anyway: the person asked
      await sleep(Math.min(5 * 2 ** attempt, 100));
    }
  }

  async exportUser(key: string, actor = 'user'): Promise<UserExport> {
    const [ids, prefsHash] = await this.call(() => Promise.all([this.redis.smembers(this.keys.user(key)), this.redis.hgetall(this.keys.prefs(key))]));
    const prefs = prefsFromFields(prefsHash, (v) => this.cipher.open(v));
    const sessions = await this.call(() =>
      Promise.all(
        ids.map(async (sessionId): Promise<UserExport['sessions'][number] | undefined> => {
          const [state, metaPairs, raw, stored] = await Promise.all([
            this.redis.get(this.keys.state(sessionId)),
            this.redis.hgetall(this.keys.meta(sessionId)),
            this.redis.lrange(this.keys.history(sessionId), 0, -1),
            this.redis.smembers(this.keys.participants(sessionId)),
          ]);
          if (!state) return undefined;
          const meta = toMeta(metaPairs);
          const history = raw.map((h) => JSON.parse(this.cipher.open(h)) as HistoryEntry);
          if (otherParticipants(key, meta, stored, history).length === 0) {
            return { sessionId, meta, state: JSON.parse(this.cipher.open(state)) as unknown, history };
          }
          // Shared: only their part (see UserExport).
          return { sessionId, meta: { ...meta, userId: userIdOf(key, meta.platform) }, state: null, history: ownPart(key, history), shared: true };
        }),
      ),
    );
    await this.audit({ actor, action: 'export', target: key, sessions: String(ids.length) });
    return { userKey: key, sessions: sessions.filter((s): s is NonNullable<typeof s> => s !== undefined), ...(isEmptyPrefs(prefs) ? {} : { prefs }) };
  }

  /**
   * Removes sessions idle longer than the TTL from the active index (their keys
   * have expired). Uses ZRANGEBYSCORE in batches, never KEYS. Returns the count removed.
   */
  async sweepActive(now = Date.now(), batch = 500): Promise<number> {
    const cutoff = now - this.ttlSeconds * 1000;
    let removed = 0;
    for (;;) {
      const ids = await this.call(() => this.redis.zrangebyscore(this.keys.active, '-inf', cutoff, 'LIMIT', 0, batch));
      if (ids.length === 0) return removed;
      removed += await this.call(() => this.redis.zrem(this.keys.active, ...ids));
    }
  }

  /** The most recently active sessions, newest first. */
  async listActive(limit = 100): Promise<Array<{ sessionId: string; lastActive: number }>> {
    const flat = await this.call(() => this.redis.zrevrange(this.keys.active, 0, limit - 1, 'WITHSCORES'));
    const out: Array<{ sessionId: string; lastActive: number }> = [];
    for (let i = 0; i < flat.length; i += 2) out.push({ sessionId: flat[i]!, lastActive: Number(flat[i + 1]) });
    return out;
  }

  /** Appends an audit entry (who, what, when; never message text) to the capped stream. */
  async audit(entry: { actor: string; action: string; target: string; [field: string]: string }): Promise<void> {
    const fields = Object.entries({ ...entry, at: new Date().toISOString() }).flat();
    await this.call(() => this.redis.xadd(this.keys.audit, 'MAXLEN', '~', String(this.auditMaxLen), '*', ...fields));
  }

  /** The newest audit entries, newest first. */
  async auditTrail(count = 50): Promise<Array<Record<string, string>>> {
    const rows = await this.call(() => this.redis.xrevrange(this.keys.audit, '+', '-', 'COUNT', count));
    return rows.map(([id, fields]) => ({ id, ...pairsToObject(fields) }));
  }

  private sweeper: NodeJS.Timeout | undefined;

  /** Sweeps the active index every `intervalMs` (any instance may; it is idempotent). Stopped by close(). */
  startSweeper(intervalMs = 10 * 60_000): void {
    this.sweeper ??= setInterval(() => void this.sweepActive().catch(() => undefined), intervalMs).unref();
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    await this.redis.quit().catch(() => this.redis.disconnect());
  }

  /**
   * Round trips this store has waited on. Each `call` is one: commands issued
   * inside it in the same tick travel together (auto-pipelining).
   */
  get roundTrips(): number {
    return this.trips;
  }

  /** Runs a Redis call, turning connection trouble into StoreUnavailableError (the turn answers "try again"). */
  private async call<T>(fn: () => Promise<T>): Promise<T> {
    this.trips++;
    try {
      return await fn();
    } catch (err) {
      if (err instanceof StaleSessionError || err instanceof SessionBusyError) throw err;
      const e = err as { name?: string; message?: string; code?: string };
      if (e.name === 'ReplyError') throw err; // a bug (bad script or arguments), not an outage
      throw new StoreUnavailableError(`Redis unavailable: ${e.code ?? e.message ?? 'error'}`, { cause: err });
    }
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export type { SessionRecord };
