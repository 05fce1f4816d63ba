/**
 * The conversation engine. One turn, top to bottom:
 *
 *   sanitize -> crisis check -> open the turn transaction (lock + load)
 *     -> decideTurn: the crisis check in the session's context
 *        -> safety protocol | size limit | pending confirmation | command
 *        -> classify -> navigate -> retrieve -> respond (moderation beside them)
 *     -> post the reply -> commit or erase (releases the lock) -> person-level safety mark
 *   -> the observer event, and one TurnResult
 *
 * Platforms reach it through `handleTurn`; it knows nothing about them.
 */
import { CrisisCheck, type SafetyAssessment } from '../safety/crisis-check.js';
import { shippedRiskModel } from '../safety/model/shipped.js';
import type { OfflineResponder } from '../responder/offline-responder.js';
import { StaticConfig, type ConfigSource, type TurnVariant } from '../overrides/variant.js';
import { randomUUID } from 'node:crypto';
import type { RaiseOutcome } from '../safety/alerts/alert-queue.js';
import { userKey } from '../session/store.js';
import type { Prefs } from '../session/prefs.js';
import { errorCode } from '../util/error-code.js';
import { silentLogger, type Logger } from '../util/logger.js';
import { isBlank, sanitize } from './input.js';
import type { TurnEvent, TurnKind } from './observer.js';
import { newSessionState, type SessionState } from './session-state.js';
import { assessBurst, unanswered, type TurnTexts } from './burst.js';
import { decideTurn, type DecideDeps } from './decide.js';
import type { TurnAlerting } from './alerting.js';
import { turnCommit } from './records.js';
import { recordTurn, type RecordDeps, type Recorded, type TurnTransaction } from './turn-transaction.js';
import type { EngineDeps, Step, TurnHooks, TurnInput, TurnResult } from './types.js';

/** The messages of a turn, sanitized: one text, or a burst from the queue (blank ones dropped). */
interface Messages {
  text: string;
  parts: TurnInput['parts'];
}

/** What a turn is about, handed from `handleTurn` into its transaction. */
interface TurnContext {
  input: TurnInput;
  v: TurnVariant;
  hooks: TurnHooks;
  messages: Messages;
  assessment: SafetyAssessment;
  alerting: TurnAlerting | undefined;
}

/** A turn answered and recorded, for the observer event and the result. */
interface AnsweredTurn {
  step: Step;
  reply: string;
  /** The state as loaded (or a new session's first state). */
  before: SessionState;
  turn: TurnTexts;
  isNew: boolean;
}

export type { Answered, EngineDeps, EngineOptions, Ignored, RecordFailed, Redo, TurnHooks, TurnInput, TurnResult } from './types.js';

export class Engine {
  readonly crisis: CrisisCheck;
  /** The base config's offline responder (named in the backends line when no LLM is configured). */
  private readonly offline: OfflineResponder;
  private readonly logger: Logger;
  private readonly attempts: number;
  private readonly decideDeps: DecideDeps;
  private readonly recordDeps: RecordDeps;
  private readonly now: () => Date;

  private readonly source: ConfigSource;

  constructor(private readonly deps: EngineDeps) {
    const { config } = deps;
    this.source = deps.configSource ?? new StaticConfig(config);
    // Safety is always the base config's (overrides compile their own classifier and navigator).
    const base = this.source.base;
    this.crisis = new CrisisCheck(config.safety, config.riskGrammar, deps.riskModel === null ? undefined : (deps.riskModel ?? shippedRiskModel()));
    this.offline = base.offline;
    this.logger = deps.logger ?? silentLogger;
    this.attempts = deps.options?.commitAttempts ?? 3;
    this.now = deps.options?.now ?? (() => new Date());
    this.decideDeps = {
      crisis: this.crisis,
      safety: config.safety, // never overridden
      maxChars: deps.options?.maxMessageChars ?? 4000,
      retriever: deps.retriever,
      k: config.retrieval.k,
      responder: deps.responder,
      moderation: deps.moderation,
      logger: this.logger,
      checkins: deps.checkins !== undefined,
    };
    this.recordDeps = { store: deps.store, marks: deps.marks, eraseElsewhere: deps.eraseElsewhere, logger: this.logger };
  }

  /**
   * Records in a session's history that the rest of a partly posted reply went out late (a
   * reply nothing of which was posted is not recorded at all: its turn is redone). Never
   * throws: a failure here is logged.
   */
  async noteLateDelivery(sessionId: string): Promise<void> {
    try {
      await this.deps.store.annotate(sessionId, { role: 'system', text: 'reply delivered late', at: this.now().toISOString(), action: 'delivered' });
    } catch (err) {
      this.logger.warn({ sessionId, err: errorCode(err) }, 'could not record the delivery note');
    }
  }

  /**
   * The fixed crisis response when `text` is a risk statement, else null. For adapter
   * paths that answer without a turn (a refusal, a command's usage line): a risk
   * statement must never go unanswered there either.
   */
  crisisResponse(text: string): string | null {
    const a = this.crisis.assess(sanitize(text), [], { release: false });
    const { safety } = this.deps.config;
    return a.risk ? safety.response : a.possible ? safety.check_in.message : null;
  }

  /** Texts an adapter shows outside a conversation (an app home page, a help command). */
  get texts(): { disclosure: string; help: string; unavailable: string; unsure: string } {
    const { responses } = this.deps.config;
    return { disclosure: responses.disclosure, help: responses.commands.help, unavailable: responses.system.unavailable, unsure: responses.system.unsure };
  }

  /** Names of the active backends, for the start-up banner. */
  get backends(): Record<string, string> {
    return {
      store: this.deps.store.name,
      retriever: this.deps.retriever.name,
      responder: (this.deps.responder ?? this.offline).name,
      crisis: this.crisis.hasModel ? 'risk grammar + trained model' : 'risk grammar',
      moderation: this.deps.moderation?.name ?? 'off',
    };
  }

  /**
   * One turn: read the messages, check them for risk, then decide and record in one
   * transaction, and say how it ended. Deciding is `decideTurn`; recording is the
   * `TurnTransaction`; this method only strings them together.
   */
  async handleTurn(input: TurnInput, hooks: TurnHooks = {}): Promise<TurnResult> {
    const started = performance.now();
    const messages = readMessages(input);
    if (!messages) return ignored(input, 'blank');
    // Safety first: every message, whatever its size or state, is checked before anything else.
    const assessment = assessBurst(this.crisis, messages.parts?.map((p) => p.text) ?? [messages.text]);
    // This person's config: tenant and experiment overrides, from memory.
    const v = this.source.variant(input);

    // Where this tenant's alerts go; the episode seed is the same on every try at this turn.
    const alerting = this.deps.alerts ? { target: this.deps.alerts.target(v.tenant), sessionId: input.sessionId, seed: input.origin?.messageId ?? randomUUID() } : undefined;
    const recorded = await recordTurn(this.recordDeps, input, this.attempts, (tx) => this.answer(tx, { input, v, hooks, messages, assessment, alerting }));
    if (!recorded.ok) return this.notRecorded(input, v, recorded, assessment);
    if (recorded.value === 'answered_already') return ignored(input, 'answered_already');

    const { step, reply, before, turn, isNew } = recorded.value;
    const substate = step.state.nav.substate;
    const reached = [...(isNew ? [before.nav.substate] : []), ...(substate !== before.nav.substate ? [substate] : [])];
    this.observe(input, v, {
      reached,
      completed: reached.some((id) => v.navigator.has(id) && v.navigator.substate(id).terminal === true),
      kind: step.kind,
      substate,
      action: step.action,
      interrupt: step.interrupt,
      crisisReferral: step.kind === 'crisis',
      newSession: isNew,
      durationMs: performance.now() - started,
    });
    this.logger.debug({ sessionId: input.sessionId, kind: step.kind, substate, action: step.action, ...(this.deps.options?.logMessageText ? { texts: turn.texts, reply } : {}) }, 'turn');
    return { outcome: 'answered', sessionId: input.sessionId, kind: step.kind, reply, delivered: recorded.delivered, substate, action: step.action };
  }

  /** Inside the transaction: what this turn still answers, the decision, the post, the record. */
  private async answer(tx: TurnTransaction, t: TurnContext): Promise<AnsweredTurn | 'answered_already'> {
    const { input, v, hooks, messages } = t;
    const before = tx.loadedState() ?? (await this.startState(tx, v));
    const turn = unanswered(this.crisis, messages.parts, before, messages.text, t.assessment);
    if (!turn) {
      this.logger.info({ sessionId: input.sessionId }, 'queued messages already answered; not answering again');
      return 'answered_already';
    }
    const { step, reply } = await tx.keepAlive(async () => {
      // The first reply of a session says plainly what this is (framing previews too).
      const frame = (reply: string) => (before.disclosed ? reply : `${v.config.responses.disclosure}\n\n${reply}`);
      const streams = v.config.flags.flags.llm_streaming !== false;
      const show = streams && hooks.preview ? (part: string) => hooks.preview!(frame(part)) : undefined;
      const step = await decideTurn(this.decideDeps, { input, v, turn, state: before, history: tx.history, show, signal: hooks.signal, alerting: t.alerting, prefs: tx.prefs });
      // What the platform says about where the person is, kept once seen (their own setting still wins).
      step.prefs = withPlatformHints(step.prefs ?? tx.prefs, input) ?? step.prefs;
      // A check-in schedule change is made before the reply says it is done; a failure fails the turn.
      if (step.schedule) await this.changeSchedule(input, step.schedule);
      // The alert is stored before the reply goes out: a crash after the reply redoes the turn, which
      // raises the same episode again (a duplicate, not a second alert). A raise that fails fails the turn.
      if (step.alert && (await this.raiseAlert(tx, input, v, turn, step)) === 'open') step.reply = step.alert.replyIfOpen ?? step.reply;
      const reply = frame(step.reply);
      await tx.deliver(reply, step.kind, hooks);
      return { step, reply };
    });
    this.stamp(step.state, v, turn, tx.isNew, input.sessionId);
    if (step.erase) {
      // A shared thread's session keeps this turn's state for the others, the request cleared.
      const sessions = await tx.erase({ ...step.state, pending: undefined });
      this.logger.info({ sessionId: input.sessionId, sessions }, 'user data erased on request');
    } else {
      await tx.commit(turnCommit(input, tx.storedMeta, turn, reply, step, this.now()));
    }
    await tx.trackPersonSafety(before, step.state);
    return { step, reply, before, turn, isNew: tx.isNew };
  }

  /**
   * Raises the step's alert: the episode, the tenant, where the conversation is (never the
   * words, unless the tenant includes them). A person already in the safety state in another
   * session is in the same episode: nothing new is raised.
   */
  private async raiseAlert(tx: TurnTransaction, input: TurnInput, v: TurnVariant, turn: TurnTexts, step: Step): Promise<RaiseOutcome | 'elsewhere'> {
    const alerts = this.deps.alerts!;
    const request = step.alert!;
    const target = alerts.target(v.tenant)!;
    if (request.kind !== 'requested' && (await tx.personInSafety())) {
      this.logger.info({ sessionId: input.sessionId, episode: request.episode }, 'safety alert: the person is in the safety state elsewhere; that episode was alerted');
      return 'elsewhere';
    }
    const outcome = await alerts.queue.raise(
      {
        episode: request.episode,
        kind: request.kind,
        platform: input.platform,
        tenant: v.tenant,
        sessionId: input.sessionId,
        userId: input.userId,
        at: this.now().toISOString(),
        ...(input.origin ? { origin: input.origin } : {}),
        ...(target.includeText ? { text: turn.text } : {}),
      },
      target,
    );
    this.logger.info({ sessionId: input.sessionId, episode: request.episode, kind: request.kind, outcome }, 'safety alert raised');
    alerts.onRaised?.(outcome);
    return outcome;
  }

  private async changeSchedule(input: TurnInput, change: NonNullable<Step['schedule']>): Promise<void> {
    const checkins = this.deps.checkins;
    if (!checkins) return;
    const who = userKey(input.platform, input.userId);
    if (change.kind === 'clear') return checkins.clear(who);
    const target = { userKey: who, platform: input.platform, userId: input.userId, tenant: input.tenant, sessionId: input.sessionId, replyTo: input.origin?.replyTo ?? {} };
    await checkins.set(target, change.time, change.timeZone);
  }

  /** What a turn's state records besides the decision: disclosed, the config it ran on, the last queued message answered. */
  private stamp(state: SessionState, v: TurnVariant, turn: TurnTexts, isNew: boolean, sessionId: string): void {
    state.disclosed = true;
    // The session records the config it runs on (base version plus the overrides applied).
    if (state.configVersion !== v.version) {
      if (!isNew) this.logger.info({ sessionId, from: state.configVersion, to: v.version }, 'session config version changed');
      state.configVersion = v.version;
    }
    if (turn.seqs.length > 0) {
      state.queueSeq = Math.max(state.queueSeq ?? 0, ...turn.seqs);
      state.answeredSeqs = turn.seqs;
    }
    if (turn.order !== undefined && (state.lastOrder === undefined || turn.order > state.lastOrder)) state.lastOrder = turn.order;
  }

  /** A turn that recorded nothing (or could not record what it posted): the result says what the caller does next. */
  private notRecorded(input: TurnInput, v: TurnVariant, r: Exclude<Recorded<unknown>, { ok: true }>, assessment: SafetyAssessment): TurnResult {
    const sessionId = input.sessionId;
    switch (r.why) {
      case 'invalid_session':
        return ignored(input, 'invalid_session');
      case 'store_unavailable':
        return this.unavailable(input, v, r.err, assessment);
      case 'handed_over':
        return { outcome: 'redo', sessionId, why: 'handed_over', kind: 'ignored', reply: null };
      case 'not_delivered':
        return { outcome: 'redo', sessionId, why: 'not_delivered', kind: r.kind, reply: r.reply };
      case 'record_failed':
        return { outcome: 'record_failed', sessionId, kind: 'unavailable', reply: null };
    }
  }

  /** A new session's state; it starts in the safety state when the person is in it elsewhere. */
  private async startState(tx: TurnTransaction, v: TurnVariant): Promise<SessionState> {
    const state = newSessionState(v.navigator.initialState(), v.version);
    if (await tx.personInSafety()) state.safety = { active: true, safeStatements: 0, referrals: 0 };
    return state;
  }

  /**
   * The store failed: an honest "try again shortly", never a crash. A crisis
   * statement still gets the fixed crisis response: resources must not wait for storage.
   */
  private unavailable(input: TurnInput, v: TurnVariant, err: unknown, assessment: SafetyAssessment): TurnResult {
    this.logger.error({ sessionId: input.sessionId, err: errorCode(err) }, 'session store unavailable');
    const { safety, responses } = this.deps.config;
    // A possible risk gets the check-in (it carries the crisis lines) rather than "try again".
    const reply = assessment.risk ? safety.response : assessment.possible ? safety.check_in.message : responses.system.unavailable;
    const kind: TurnKind = assessment.risk ? 'crisis' : assessment.possible ? 'check_in' : 'unavailable';
    this.observe(input, v, { reached: [], completed: false, kind, substate: undefined, action: undefined, interrupt: undefined, crisisReferral: Boolean(assessment.risk), newSession: false, durationMs: 0 });
    return { outcome: 'redo', sessionId: input.sessionId, why: 'store_unavailable', kind, reply };
  }

  /** The one place a turn's observer event is built: who and which config, then what happened. */
  private observe(input: TurnInput, v: TurnVariant, what: Omit<TurnEvent, 'platform' | 'tenant' | 'experiments' | 'configVersion'>): void {
    this.deps.observer?.turn({ platform: input.platform, tenant: v.tenant, experiments: v.experiments, configVersion: v.version, ...what });
  }
}

/**
 * Prefs with what the platform says this turn (country, time zone), when that is news; undefined
 * when nothing changes (a turn writes prefs only when they change).
 */
function withPlatformHints(prefs: Prefs, input: TurnInput): Prefs | undefined {
  const country = input.platformCountry && input.platformCountry !== prefs.platformCountry ? { platformCountry: input.platformCountry } : {};
  const zone = input.platformTimeZone && input.platformTimeZone !== prefs.platformTimeZone ? { platformTimeZone: input.platformTimeZone } : {};
  return Object.keys(country).length + Object.keys(zone).length > 0 ? { ...prefs, ...country, ...zone } : undefined;
}

/** The turn's messages, sanitized; null when there is nothing to answer. */
function readMessages(input: TurnInput): Messages | null {
  const parts = input.parts?.map((p) => ({ ...p, text: sanitize(p.text) })).filter((p) => !isBlank(p.text));
  const text = parts ? parts.map((p) => p.text).join('\n') : sanitize(input.text);
  return isBlank(text) ? null : { text, parts };
}

function ignored(input: TurnInput, why: 'blank' | 'answered_already' | 'invalid_session'): TurnResult {
  return { outcome: 'ignored', sessionId: input.sessionId, why, kind: 'ignored', reply: null };
}
