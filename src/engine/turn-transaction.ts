/**
 * Recording a turn. One `TurnTransaction` owns the session from open (lock + load) to
 * release: it keeps the lock alive while the turn is decided, posts the reply, then
 * commits (or erases), and keeps the person-level safety mark in step. `recordTurn`
 * runs a turn in one, retries it on a stale version while nothing has gone out, and
 * turns every way it can end into one `Recorded` value: no flags to combine.
 *
 * The rule everything here follows: once the reply has been posted, the turn must not
 * be redone (the person would be answered twice), so a failure after that is
 * `record_failed`, and the commit waits out a store hiccup instead of giving up.
 */
import { InvalidSessionIdError, StaleSessionError, userKey, type OpenSession, type SessionCommit, type SessionMeta, type SessionStore } from '../session/store.js';
import type { Marks } from '../session/marks.js';
import type { Prefs } from '../session/prefs.js';
import { errorCode } from '../util/error-code.js';
import type { Logger } from '../util/logger.js';
import { commitAfterDelivery } from './commit.js';
import { withLockKeptAlive } from './lock-keepalive.js';
import type { TurnKind } from './observer.js';
import { migrateState, scrubSharedState, type SessionState } from './session-state.js';
import { NotDeliveredError, TurnAbortedError } from './turn-errors.js';
import type { TurnHooks, TurnInput } from './types.js';

/** How long a person stays in the safety state across sessions without a release: 30 days. */
const SAFETY_MARK_TTL_S = 30 * 86_400;

export interface RecordDeps {
  store: SessionStore;
  /** Person-level flags shared by every instance (the safety state follows the person). */
  marks: Marks | undefined;
  /** Erases what else is kept about a person outside the store (their dead letters). */
  eraseElsewhere: ((userKey: string) => Promise<unknown>) | undefined;
  logger: Logger;
}

/** How a turn run through `recordTurn` ended. */
export type Recorded<T> =
  /** Done: committed or erased. `delivered`: the reply was posted within the turn. */
  | { ok: true; value: T; delivered: boolean }
  /** The session id cannot be stored (the edges refuse such ids; this is the last line). */
  | { ok: false; why: 'invalid_session' }
  /** Nothing recorded and nothing posted: the store could not be reached, or the version stayed stale. */
  | { ok: false; why: 'store_unavailable'; err: unknown }
  /** Handed to another worker before the reply went out: nothing posted, nothing recorded. */
  | { ok: false; why: 'handed_over' }
  /** The platform took none of the reply: nothing recorded, so it can be redone. */
  | { ok: false; why: 'not_delivered'; kind: TurnKind; reply: string }
  /** The reply went out but the turn could not be recorded: not to be redone. */
  | { ok: false; why: 'record_failed'; err: unknown };

export class TurnTransaction {
  private posted = false;
  private done = false;

  private constructor(
    private readonly deps: RecordDeps,
    private readonly input: TurnInput,
    private readonly session: OpenSession<unknown>,
  ) {}

  /** Locks and loads the session (throws what the store throws). */
  static async open(deps: RecordDeps, input: TurnInput): Promise<TurnTransaction> {
    // The person's preferences come with the session, in the same round trip.
    return new TurnTransaction(deps, input, await deps.store.open(input.sessionId, { prefsOf: userKey(input.platform, input.userId) }));
  }

  /** The session did not exist before this turn. */
  get isNew(): boolean {
    return this.session.record === null;
  }

  /** The person's preferences, read with the session ({} when none). */
  get prefs(): Prefs {
    return this.session.prefs ?? {};
  }

  /** The session's metadata as stored (undefined for a new session). */
  get storedMeta(): SessionMeta | undefined {
    return this.session.record?.meta;
  }

  /** The reply has been posted: from here on the turn is never redone. */
  get delivered(): boolean {
    return this.posted;
  }

  /** The stored state, brought to the current schema; null for a new session, or an unusable state (logged). */
  loadedState(): SessionState | null {
    const { record } = this.session;
    if (!record) return null;
    const state = migrateState(record.state);
    if (!state) this.deps.logger.warn({ sessionId: this.input.sessionId }, 'stored session state unusable; starting over');
    return state;
  }

  /** Whether this person is in the safety state in another session (a new session starts in it too). */
  async personInSafety(): Promise<boolean> {
    return (await this.deps.marks?.exists(safetyMark(this.input)).catch(() => false)) ?? false;
  }

  /** The session's last entries, for a responder that wants context. */
  readonly history = (limit: number) => this.deps.store.history(this.input.sessionId, limit);

  /** Runs `fn` (deciding, posting) with the session lock kept alive, so no other instance enters. */
  keepAlive<T>(fn: () => Promise<T>): Promise<T> {
    return withLockKeptAlive(this.deps.store, this.session, this.deps.logger, fn);
  }

  /**
   * Posts the reply while the session is locked, when the platform posts within the turn
   * (`hooks.deliver`); without it the caller posts after the commit. Throws
   * `TurnAbortedError` when the turn was handed over, `NotDeliveredError` when nothing was posted.
   */
  async deliver(reply: string, kind: TurnKind, hooks: TurnHooks): Promise<void> {
    if (!hooks.deliver) return;
    // Handed to another worker (shutdown): post nothing, record nothing; the new owner answers.
    if (hooks.signal?.aborted) throw new TurnAbortedError();
    this.posted = true; // from here on, redoing the turn would answer twice
    const posted = await hooks.deliver(reply).catch((err: unknown) => {
      this.deps.logger.error({ sessionId: this.input.sessionId, err: errorCode(err) }, 'reply delivery failed');
      return false;
    });
    if (posted === false) {
      this.posted = false; // nothing reached the person: the turn is redone later, not recorded now
      throw new NotDeliveredError(kind, reply);
    }
  }

  /** Writes the turn and releases the lock; once the reply is out, a store hiccup is waited out. */
  async commit(change: SessionCommit<SessionState>): Promise<void> {
    await (this.posted ? commitAfterDelivery(this.deps.store, this.session, change) : this.deps.store.commit(this.session, change));
    this.done = true;
  }

  /**
   * Erases everything kept about the person (a confirmed `forget`) and releases the lock. A
   * shared thread's session survives for the others: it keeps `heldState`, and in every
   * shared session what may hold the asker's words goes. Returns the sessions touched.
   */
  async erase(heldState: SessionState): Promise<number> {
    const who = userKey(this.input.platform, this.input.userId);
    const erased = await this.deps.store.eraseUser(who, 'user', this.session, { heldState, scrubState: scrubSharedState });
    await this.deps.store.release(this.session);
    this.done = true;
    await this.deps.marks?.clear(safetyMark(this.input)).catch(() => undefined); // erasure covers person-level flags too
    await this.deps.eraseElsewhere?.(who).catch((err: unknown) =>
      this.deps.logger.error({ sessionId: this.input.sessionId, err: errorCode(err) }, 'could not erase the dead letters of a person who asked for erasure'),
    );
    return erased.length;
  }

  /** Keeps the person-level safety mark in step with this session's safety state (failures logged). */
  async trackPersonSafety(before: SessionState, after: SessionState): Promise<void> {
    const { marks } = this.deps;
    if (!marks || before.safety.active === after.safety.active) return;
    try {
      if (after.safety.active) await marks.setIfAbsent(safetyMark(this.input), SAFETY_MARK_TTL_S);
      else await marks.clear(safetyMark(this.input));
    } catch (err) {
      this.deps.logger.warn({ sessionId: this.input.sessionId, err: errorCode(err) }, 'could not update the person-level safety mark');
    }
  }

  /** Lets go of the lock without writing (nothing to record), unless the turn already committed. */
  async release(): Promise<void> {
    if (this.done) return;
    this.done = true;
    await this.deps.store.release(this.session);
  }
}

/**
 * Runs `body` in a transaction. A stale version (another instance wrote first) opens it
 * again, up to `attempts` times, as long as nothing has been posted; `body` should end
 * with `commit` or `erase`, and anything it leaves open is released.
 */
export async function recordTurn<T>(deps: RecordDeps, input: TurnInput, attempts: number, body: (tx: TurnTransaction) => Promise<T>): Promise<Recorded<T>> {
  const { logger } = deps;
  for (let attempt = 1; ; attempt++) {
    let tx: TurnTransaction;
    try {
      tx = await TurnTransaction.open(deps, input);
    } catch (err) {
      if (err instanceof InvalidSessionIdError) {
        // Not an outage: nothing to retry and nobody to tell "try again". The id is not logged: it may be anything.
        logger.warn({ err: err.code }, 'message dropped: invalid session id');
        return { ok: false, why: 'invalid_session' };
      }
      return { ok: false, why: 'store_unavailable', err };
    }
    try {
      const value = await body(tx);
      await tx.release();
      return { ok: true, value, delivered: tx.delivered };
    } catch (err) {
      await tx.release().catch(() => undefined);
      if (err instanceof TurnAbortedError) return { ok: false, why: 'handed_over' };
      if (err instanceof NotDeliveredError) {
        // Kept queued for a retry; the reply comes back so a crisis response can be tried again at once.
        logger.warn({ sessionId: input.sessionId }, 'reply not delivered; the turn will be redone');
        return { ok: false, why: 'not_delivered', kind: err.kind, reply: err.reply };
      }
      if (tx.delivered) {
        // The person has the reply; running the turn again would send a second one.
        logger.error({ sessionId: input.sessionId, err: errorCode(err) }, 'reply sent but the turn could not be recorded');
        return { ok: false, why: 'record_failed', err };
      }
      if (err instanceof StaleSessionError && attempt < attempts) continue;
      return { ok: false, why: 'store_unavailable', err };
    }
  }
}

function safetyMark(input: TurnInput): string {
  return `safety:${userKey(input.platform, input.userId)}`;
}
