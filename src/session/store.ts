/**
 * The session store interface. A turn is: open (take the session's lock and
 * load it), then commit (write state, history and meta atomically and release
 * the lock) or release. That shape lets a networked store do a turn in two
 * round trips. The store treats state as opaque JSON.
 *
 * A person's preferences (prefs.ts) are kept per person, not per session: `open` reads
 * them with the session when asked (`prefsOf`), a commit writes them when they changed.
 */
import type { Prefs } from './prefs.js';

/** One line of the conversation. Message text is health data: stores may encrypt it. */
export interface HistoryEntry {
  /** `system`: a note about the conversation, never message text (e.g. a reply that could not be delivered). */
  role: 'user' | 'bot' | 'system';
  text: string;
  /** ISO time. */
  at: string;
  substate?: string;
  action?: string;
  /** A `user` entry: who wrote it (`platform:userId`). */
  by?: string;
  /** A `bot` entry: whom it answered (`platform:userId`; a turn is one person's). */
  to?: string;
  /** A `user` entry written before a message already answered, that reached us after it: answered late, out of the person's order. */
  late?: boolean;
}

/**
 * Whose an entry is: `by` or `to`. Entries written before these fields existed (and
 * system notes) have neither: see `eraseUser` and `exportUser` for how they count.
 */
export function entryOwner(entry: HistoryEntry): string | undefined {
  return entry.by ?? entry.to;
}

export interface SessionMeta {
  platform: string;
  /** The person whose turn was recorded last (the engine writes the turn's sender on every commit). */
  userId: string;
  tenant?: string | undefined;
  /** ISO times. */
  createdAt: string;
  lastActiveAt: string;
  turnCount: number;
  schemaVersion: number;
}

export interface SessionRecord<S = unknown> {
  state: S;
  meta: SessionMeta;
  /** Increases by one on every commit; a commit on an older version fails. */
  version: number;
}

/** A session opened for a turn: its lock is held until commit or release. */
export interface OpenSession<S = unknown> {
  sessionId: string;
  record: SessionRecord<S> | null;
  lockToken: string;
  /** The preferences of the person named by `prefsOf` in `open` (`{}` when none are stored); absent without `prefsOf`. */
  prefs?: Prefs;
}

/** Options of `open`. */
export interface OpenOptions {
  /** A user key (`platform:userId`, see `userKey`): read that person's preferences with the session, in the same round trip. */
  prefsOf?: string | undefined;
}

export interface SessionCommit<S = unknown> {
  state: S;
  meta: SessionMeta;
  /** Entries to append to history (the store caps history length). */
  append: HistoryEntry[];
  /** Drop the existing history first (the `reset` command). */
  resetHistory?: boolean;
  /**
   * A person's preferences to store (set only when they changed: `samePrefs`): replaces
   * theirs; empty prefs delete them. Written only when the commit succeeds (not on a
   * stale one). Without it nothing is written, but the committing person's stored
   * prefs keep living as long as their sessions (their retention is refreshed).
   */
  prefs?: { userKey: string; value: Prefs } | undefined;
}

export interface UserExport {
  userKey: string;
  /**
   * A shared session (someone else took part too) is exported as the person's part only:
   * `shared: true`, `history` holds only their entries, `state` is null (the conversation
   * state is the thread's, mixing everyone's answers) and `meta.userId` is theirs.
   */
  sessions: Array<{ sessionId: string; meta: SessionMeta; state: unknown; history: HistoryEntry[]; shared?: true }>;
  /** Their stored preferences, when they have any. */
  prefs?: Prefs;
}

/** Options of `eraseUser`. */
export interface EraseOptions {
  /**
   * State to write to the `held` session when it is shared and so survives the erasure
   * (the caller's turn state, e.g. with the confirmed request cleared). Ignored otherwise.
   */
  heldState?: unknown;
  /**
   * Applied to the state of every shared session that survives the erasure (`heldState`
   * included): the state is opaque to the store, but it may hold the asker's words (slot
   * values, a reply line quoting them); the engine says what to drop. A failure to read a
   * stored state leaves it as it is.
   */
  scrubState?: (state: unknown) => unknown;
}

export interface SessionStore {
  /** Human-readable backend name, printed at start-up. */
  readonly name: string;
  /**
   * Takes the per-session lock (waiting a bounded time) and loads the session (null when new),
   * and with `prefsOf` that person's preferences, without another round trip.
   */
  open<S>(sessionId: string, options?: OpenOptions): Promise<OpenSession<S>>;
  /** Writes everything atomically and releases the lock. Throws StaleSessionError when the version moved. */
  commit<S>(session: OpenSession<S>, change: SessionCommit<S>): Promise<void>;
  /** Releases the lock without writing. */
  release(session: OpenSession<unknown>): Promise<void>;
  /** Appends one entry outside a turn (delivery notes); does nothing for a session that no longer exists. */
  annotate(sessionId: string, entry: HistoryEntry): Promise<void>;
  /** The most recent `limit` history entries, oldest first. */
  history(sessionId: string, limit?: number): Promise<HistoryEntry[]>;
  /** Keeps the lock of an open session alive during a slow step; false when it was lost. Optional. */
  extend?(session: OpenSession<unknown>): Promise<boolean>;
  /** How often `extend` should run while a turn is in progress (ms). */
  readonly lockRenewMs?: number;
  /**
   * Erases a user's (`platform:userId`) data from every session in their index, each
   * under its session lock; `held` is an open session whose lock the caller holds.
   * A session only they took part in is deleted whole. A shared one (another
   * participant remains) keeps the others' entries and its state (the thread's), loses
   * the user's entries and every entry without an owner (written before owners were
   * recorded: it could be theirs), and no longer counts them as a participant; its meta
   * names a remaining participant. Rules in session/shared.ts. The user's index and preferences are deleted. Returns the ids the
   * user's data was erased from. `actor` goes to the audit trail.
   */
  eraseUser(userKey: string, actor?: string, held?: OpenSession<unknown>, options?: EraseOptions): Promise<string[]>;
  /**
   * Everything stored about a user (their sessions and preferences), for a data export request; a shared session gives only
   * their part (see UserExport; an entry without an owner is in no one's part there).
   * `actor` goes to the audit trail.
   */
  exportUser(userKey: string, actor?: string): Promise<UserExport>;
  close(): Promise<void>;
}

/** The session changed since it was opened (another writer). The turn should be retried. */
export class StaleSessionError extends Error {
  readonly code = 'SESSION_STALE';
  constructor(sessionId: string) {
    super(`session ${sessionId} was changed by another writer`);
    this.name = 'StaleSessionError';
  }
}

/** The session's lock could not be taken in time (another turn is still running). */
export class SessionBusyError extends Error {
  readonly code = 'SESSION_BUSY';
  constructor(sessionId: string) {
    super(`session ${sessionId} is busy`);
    this.name = 'SessionBusyError';
  }
}

/** The backend cannot be reached; the caller should answer "try again shortly". */
/**
 * A session id outside the store's syntax: a bug or a forged request upstream, not an outage.
 * The message cannot be stored or answered under that id; retrying would not help.
 */
export class InvalidSessionIdError extends Error {
  readonly code = 'INVALID_SESSION_ID';
  constructor(message: string) {
    super(message);
    this.name = 'InvalidSessionIdError';
  }
}

export class StoreUnavailableError extends Error {
  readonly code = 'STORE_UNAVAILABLE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}

/** `platform:userId`, the key a person's data is indexed under for erasure and export. */
export function userKey(platform: string, userId: string): string {
  return `${platform}:${userId}`;
}
