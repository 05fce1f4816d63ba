/**
 * In-process session store: the default when no Redis is configured, and the
 * reference every other store is tested against. Sessions are lost on exit.
 * A person's prefs are kept by user key with the sessions' retention, refreshed
 * by each of their commits, like the Redis store's prefs key.
 */
import { randomUUID } from 'node:crypto';
import {
  SessionBusyError,
  StaleSessionError,
  userKey,
  type EraseOptions,
  type HistoryEntry,
  type OpenOptions,
  type OpenSession,
  type SessionCommit,
  type SessionRecord,
  type SessionStore,
  type UserExport,
} from './store.js';
import { keptAfterErase, metaUserAfter, otherParticipants, ownPart, userIdOf } from './shared.js';
import { copyPrefs, isEmptyPrefs, type Prefs } from './prefs.js';

export interface MemoryStoreOptions {
  /** History entries kept per session (oldest dropped). Default 200. */
  historyMax?: number;
  /** Sessions idle longer than this are gone. Default 30 days. */
  ttlMs?: number;
  /** Longest wait for another turn of the same session to finish. Default 10 s. */
  lockWaitMs?: number;
  /** Clock, for tests. */
  now?: () => number;
}

interface Entry {
  record: SessionRecord;
  history: HistoryEntry[];
  lastActive: number;
  /** Everyone whose turns were committed here (`platform:userId`), less those who erased their data. */
  participants: Set<string>;
}

export class MemorySessionStore implements SessionStore {
  readonly name = 'memory (sessions are lost on exit)';
  private readonly sessions = new Map<string, Entry>();
  private readonly byUser = new Map<string, Set<string>>();
  /** By user key: their prefs and when a commit of theirs last kept them alive. */
  private readonly prefs = new Map<string, { value: Prefs; lastActive: number }>();
  /** Per-session lock: the tail of a promise chain of waiting turns. */
  private readonly locks = new Map<string, { token: string; done: Promise<void>; release: () => void }>();
  private readonly historyMax: number;
  private readonly ttlMs: number;
  private readonly lockWaitMs: number;
  private readonly now: () => number;
  private commits = 0;

  constructor(options: MemoryStoreOptions = {}) {
    this.historyMax = options.historyMax ?? 200;
    this.ttlMs = options.ttlMs ?? 30 * 24 * 3600 * 1000;
    this.lockWaitMs = options.lockWaitMs ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  async open<S>(sessionId: string, options: OpenOptions = {}): Promise<OpenSession<S>> {
    const deadline = this.now() + this.lockWaitMs;
    for (;;) {
      const held = this.locks.get(sessionId);
      if (!held) break;
      const left = deadline - this.now();
      if (left <= 0) throw new SessionBusyError(sessionId);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([held.done, new Promise((r) => (timer = setTimeout(r, left)))]);
      clearTimeout(timer);
    }
    let release!: () => void;
    const done = new Promise<void>((r) => (release = r));
    const token = randomUUID();
    this.locks.set(sessionId, { token, done, release });
    const entry = this.live(sessionId);
    const prefs = options.prefsOf === undefined ? {} : { prefs: copyPrefs(this.livePrefs(options.prefsOf)?.value ?? {}) };
    return { sessionId, record: entry ? (structuredClone(entry.record) as SessionRecord<S>) : null, lockToken: token, ...prefs };
  }

  async commit<S>(session: OpenSession<S>, change: SessionCommit<S>): Promise<void> {
    this.assertLock(session);
    try {
      const current = this.live(session.sessionId);
      const expected = session.record?.version ?? 0;
      if ((current?.record.version ?? 0) !== expected) throw new StaleSessionError(session.sessionId);
      const history = [...(change.resetHistory ? [] : (current?.history ?? [])), ...structuredClone(change.append)].slice(-this.historyMax);
      const record: SessionRecord = { state: structuredClone(change.state), meta: { ...change.meta }, version: expected + 1 };
      const key = userKey(change.meta.platform, change.meta.userId);
      const participants = new Set(current?.participants).add(key);
      this.sessions.set(session.sessionId, { record, history, lastActive: this.now(), participants });
      // Retention without a timer: every so often, drop sessions idle past the TTL.
      if (++this.commits % 1000 === 0) this.sweep();
      if (!this.byUser.has(key)) this.byUser.set(key, new Set());
      this.byUser.get(key)!.add(session.sessionId);
      const kept = this.livePrefs(key);
      if (kept) kept.lastActive = this.now(); // a person active in a session keeps their prefs
      if (change.prefs) {
        if (isEmptyPrefs(change.prefs.value)) this.prefs.delete(change.prefs.userKey);
        else this.prefs.set(change.prefs.userKey, { value: copyPrefs(change.prefs.value), lastActive: this.now() });
      }
    } finally {
      await this.release(session);
    }
  }

  async release(session: OpenSession<unknown>): Promise<void> {
    const held = this.locks.get(session.sessionId);
    if (held && held.token === session.lockToken) {
      this.locks.delete(session.sessionId);
      held.release();
    }
  }

  async annotate(sessionId: string, entry: HistoryEntry): Promise<void> {
    const e = this.live(sessionId);
    if (e) e.history = [...e.history, { ...entry }].slice(-this.historyMax);
  }

  async history(sessionId: string, limit = this.historyMax): Promise<HistoryEntry[]> {
    return structuredClone(this.live(sessionId)?.history.slice(-limit) ?? []);
  }

  async eraseUser(key: string, _actor?: string, held?: OpenSession<unknown>, options: EraseOptions = {}): Promise<string[]> {
    const ids = [...(this.byUser.get(key) ?? [])];
    for (const id of ids) {
      // Under the session's lock, so a running turn finishes (and is erased) or starts after.
      const lock = held?.sessionId === id ? undefined : await this.open(id).catch(() => undefined);
      const e = this.live(id);
      const others = e ? otherParticipants(key, e.record.meta, e.participants, e.history) : [];
      if (!e || others.length === 0) {
        this.sessions.delete(id); // theirs alone: all of it goes
      } else {
        // Shared: the others' entries and the thread's state stay; the session no longer counts them.
        e.history = e.history.filter((h) => keptAfterErase(key, h));
        e.participants = new Set(others);
        e.record.meta = { ...e.record.meta, userId: metaUserAfter(key, e.record.meta, others) };
        if (held?.sessionId === id && options.heldState !== undefined) e.record.state = structuredClone(options.heldState);
        if (options.scrubState) e.record.state = options.scrubState(e.record.state);
        e.record.version++;
      }
      if (lock) await this.release(lock);
    }
    this.byUser.delete(key);
    this.prefs.delete(key);
    return ids;
  }

  async exportUser(key: string): Promise<UserExport> {
    const sessions = [...(this.byUser.get(key) ?? [])].flatMap((sessionId): UserExport['sessions'] => {
      const e = this.live(sessionId);
      if (!e) return [];
      const meta = { ...e.record.meta };
      if (otherParticipants(key, meta, e.participants, e.history).length === 0) {
        return [{ sessionId, meta, state: structuredClone(e.record.state), history: structuredClone(e.history) }];
      }
      return [{ sessionId, meta: { ...meta, userId: userIdOf(key, meta.platform) }, state: null, history: structuredClone(ownPart(key, e.history)), shared: true }];
    });
    const prefs = this.livePrefs(key)?.value;
    return { userKey: key, sessions, ...(prefs ? { prefs: copyPrefs(prefs) } : {}) };
  }

  async close(): Promise<void> {
    this.sessions.clear();
    this.byUser.clear();
    this.prefs.clear();
  }

  /** Drops every session idle past the TTL; returns how many. */
  sweep(): number {
    let dropped = 0;
    for (const id of [...this.sessions.keys()]) if (!this.live(id)) dropped++;
    for (const key of [...this.prefs.keys()]) this.livePrefs(key);
    return dropped;
  }

  /** Number of live sessions (for tests and status). */
  get size(): number {
    return this.sessions.size;
  }

  private live(sessionId: string): Entry | undefined {
    const e = this.sessions.get(sessionId);
    if (e && this.now() - e.lastActive > this.ttlMs) {
      // Retention: an idle session expires as if it had a TTL.
      this.sessions.delete(sessionId);
      for (const who of new Set(e.participants).add(userKey(e.record.meta.platform, e.record.meta.userId))) this.byUser.get(who)?.delete(sessionId);
      return undefined;
    }
    return e;
  }

  /** A person's prefs, unless idle past the TTL (then dropped, as the Redis key would expire). */
  private livePrefs(key: string): { value: Prefs; lastActive: number } | undefined {
    const p = this.prefs.get(key);
    if (p && this.now() - p.lastActive > this.ttlMs) {
      this.prefs.delete(key);
      return undefined;
    }
    return p;
  }

  private assertLock(session: OpenSession<unknown>): void {
    if (this.locks.get(session.sessionId)?.token !== session.lockToken) {
      throw new StaleSessionError(session.sessionId);
    }
  }
}
