/**
 * The conversation engine. One turn, top to bottom:
 *
 *   sanitize -> crisis check -> open session (lock + load)
 *     -> the crisis check in the session's context
 *     -> safety protocol (crisis response, check-in, safety state) | size limit | pending confirmation | command
 *     -> classify -> navigate -> retrieve -> respond (with a key, moderation beside them)
 *   -> commit (state, history, meta; releases the lock)
 *
 * Platforms reach it through `handleTurn`; it knows nothing about them.
 */
import { CrisisCheck, NO_RISK, type SafetyAssessment } from '../safety/crisis-check.js';
import { shippedRiskModel } from '../safety/model/shipped.js';
import { safetyStep, type SafetyOutcome } from '../safety/protocol.js';
import type { OfflineResponder } from '../responder/offline-responder.js';
import { conversationStep } from './conversation.js';
import { StaticConfig, type ConfigSource, type TurnVariant } from '../overrides/variant.js';
import { fillSlots } from '../text/template.js';
import { InvalidSessionIdError, StaleSessionError, userKey, type OpenSession } from '../session/store.js';
import { errorCode } from '../util/error-code.js';
import { silentLogger, type Logger } from '../util/logger.js';
import { isBlank, isConfirmation, parseCommand, sanitize } from './input.js';
import type { TurnEvent, TurnKind } from './observer.js';
import { migrateState, newSessionState, scrubSharedState, type SessionState } from './session-state.js';
import { withLockKeptAlive } from './lock-keepalive.js';
import { assessBurst, unanswered, type TurnTexts } from './burst.js';
import { NotDeliveredError, TurnAbortedError } from './turn-errors.js';
import { commitAfterDelivery } from './commit.js';
import { historyEntries, sessionMeta } from './records.js';
import { statusText } from './status.js';
import type { EngineDeps, Step, TurnHooks, TurnInput, TurnResult } from './types.js';

/** Shows the reply so far (streaming preview). */
type Show = (replySoFar: string) => void;

/** What a step may use besides its input: previews and the turn's abort signal. */
interface StepIo {
  show: Show | undefined;
  signal: AbortSignal | undefined;
}

/** Who is talking, under which config, and the step's I/O: handed to every part of a step. */
interface StepContext {
  input: TurnInput;
  v: TurnVariant;
  io: StepIo;
}

export type { EngineDeps, EngineOptions, TurnHooks, TurnInput, TurnResult } from './types.js';

export class Engine {
  readonly crisis: CrisisCheck;
  /** The base config's offline responder (named in the backends line when no LLM is configured). */
  private readonly offline: OfflineResponder;
  private readonly logger: Logger;
  private readonly maxChars: number;
  private readonly k: number;
  private readonly attempts: number;
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
    this.maxChars = deps.options?.maxMessageChars ?? 4000;
    this.k = deps.config.retrieval.k;
    this.attempts = deps.options?.commitAttempts ?? 3;
    this.now = deps.options?.now ?? (() => new Date());
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

  async handleTurn(input: TurnInput, hooks: TurnHooks = {}): Promise<TurnResult> {
    const started = performance.now();
    const parts = input.parts?.map((p) => ({ seq: p.seq, text: sanitize(p.text) })).filter((p) => !isBlank(p.text));
    const text = parts ? parts.map((p) => p.text).join('\n') : sanitize(input.text);
    if (isBlank(text)) return { kind: 'ignored', reply: null, sessionId: input.sessionId };
    // Safety first: every message, whatever its size or state, is checked before anything else.
    const assessment = assessBurst(this.crisis, parts?.map((p) => p.text) ?? [text]);
    // This person's config: tenant and experiment overrides, from memory.
    const v = this.source.variant(input);

    for (let attempt = 1; ; attempt++) {
      let session: OpenSession<unknown>;
      try {
        session = await this.deps.store.open(input.sessionId);
      } catch (err) {
        if (err instanceof InvalidSessionIdError) {
          // Not an outage: nothing to retry and nobody to tell "try again" (the adapters' edges
          // refuse such ids; this is the last line). The id is not logged: it may be anything.
          this.logger.warn({ err: err.code }, 'message dropped: invalid session id');
          return { kind: 'ignored', reply: null, sessionId: input.sessionId };
        }
        return this.unavailable(input, v, err, assessment);
      }
      let delivered = false;
      try {
        const existing = session.record ? migrateState(session.record.state) : null;
        if (session.record && !existing) this.logger.warn({ sessionId: input.sessionId }, 'stored session state unusable; starting over');
        const state = existing ?? (await this.startState(input, v));
        const turn = unanswered(this.crisis, parts, state.queueSeq, text, assessment);
        if (!turn) {
          await this.deps.store.release(session);
          this.logger.info({ sessionId: input.sessionId }, 'queued messages already answered; not answering again');
          return { kind: 'ignored', reply: null, sessionId: input.sessionId };
        }
        const { step, reply } = await withLockKeptAlive(this.deps.store, session, this.logger, async () => {
          // The first reply of a session says plainly what this is (framing previews too).
          const frame = (reply: string) => (state.disclosed ? reply : `${v.config.responses.disclosure}\n\n${reply}`);
          const streams = v.config.flags.flags.llm_streaming !== false;
          const show = streams && hooks.preview ? (part: string) => hooks.preview!(frame(part)) : undefined;
          const step = await this.step({ input, v, io: { show, signal: hooks.signal } }, turn, this.onCurrentConfig(state, v, input.sessionId));
          const reply = frame(step.reply);
          if (hooks.deliver) {
            // Handed to another worker (shutdown): post nothing, record nothing; the new owner answers.
            if (hooks.signal?.aborted) throw new TurnAbortedError();
            delivered = true; // from here on, redoing the turn would answer twice
            const posted = await hooks.deliver(reply).catch((err: unknown) => {
              this.logger.error({ sessionId: input.sessionId, err: errorCode(err) }, 'reply delivery failed');
              return false;
            });
            if (posted === false) {
              delivered = false; // nothing reached the person: the turn is redone later, not recorded now
              throw new NotDeliveredError(step.kind, reply);
            }
          }
          return { step, reply };
        });
        step.state.disclosed = true;
        // The session records the config it runs on (base version plus the overrides applied).
        if (step.state.configVersion !== v.version) {
          if (session.record) this.logger.info({ sessionId: input.sessionId, from: step.state.configVersion, to: v.version }, 'session config version changed');
          step.state.configVersion = v.version;
        }
        if (turn.seq !== undefined) step.state.queueSeq = turn.seq;

        if (step.erase) {
          // A shared thread's session survives for the others: it keeps this turn's state, the
          // request cleared, and in every shared session what may hold the asker's words goes.
          const heldState = { ...step.state, pending: undefined };
          const erased = await this.deps.store.eraseUser(userKey(input.platform, input.userId), 'user', session, { heldState, scrubState: scrubSharedState });
          await this.deps.store.release(session);
          await this.deps.marks?.clear(safetyMark(input)).catch(() => undefined); // erasure covers person-level flags too
          await this.deps.eraseElsewhere?.(userKey(input.platform, input.userId)).catch((err: unknown) =>
            this.logger.error({ sessionId: input.sessionId, err: errorCode(err) }, 'could not erase the dead letters of a person who asked for erasure'),
          );
          this.logger.info({ sessionId: input.sessionId, sessions: erased.length }, 'user data erased on request');
        } else {
          const who = userKey(input.platform, input.userId);
          const change = {
            state: step.state,
            meta: sessionMeta(input, session.record?.meta, step.state, this.now()),
            // Each entry says whose it is (a turn is one person's), so erasure and export in a shared thread can tell.
            append: historyEntries(turn.texts, reply, step, this.now()).map((e) => (e.role === 'user' ? { ...e, by: who } : { ...e, to: who })),
            resetHistory: step.resetHistory ?? false,
          };
          await (delivered ? commitAfterDelivery(this.deps.store, session, change) : this.deps.store.commit(session, change));
        }
        await this.trackPersonSafety(input, state, step.state);
        const substate = step.state.nav.substate;
        const reached = [...(session.record ? [] : [state.nav.substate]), ...(substate !== state.nav.substate ? [substate] : [])];
        this.observe(input, v, {
          reached,
          completed: reached.some((id) => v.navigator.has(id) && v.navigator.substate(id).terminal === true),
          kind: step.kind,
          substate,
          action: step.action,
          interrupt: step.interrupt,
          crisisReferral: step.kind === 'crisis',
          newSession: !session.record,
          durationMs: performance.now() - started,
        });
        this.logger.debug({ sessionId: input.sessionId, kind: step.kind, substate, action: step.action, ...(this.deps.options?.logMessageText ? { texts: turn.texts, reply } : {}) }, 'turn');
        return { kind: step.kind, reply, sessionId: input.sessionId, substate, action: step.action, ...(delivered ? { delivered } : {}) };
      } catch (err) {
        await this.deps.store.release(session).catch(() => undefined);
        if (err instanceof TurnAbortedError) return { kind: 'ignored', reply: null, sessionId: input.sessionId, unavailable: true };
        if (err instanceof NotDeliveredError) {
          // Kept queued for a retry; the reply comes back so a crisis response can be tried again at once.
          this.logger.warn({ sessionId: input.sessionId }, 'reply not delivered; the turn will be redone');
          return { kind: err.kind, reply: err.reply, sessionId: input.sessionId, unavailable: true };
        }
        if (delivered) {
          // The person has the reply; running the turn again would send a second one.
          this.logger.error({ sessionId: input.sessionId, err: errorCode(err) }, 'reply sent but the turn could not be recorded');
          return { kind: 'unavailable', reply: null, sessionId: input.sessionId, unavailable: true, delivered };
        }
        if (err instanceof StaleSessionError && attempt < this.attempts) continue;
        return this.unavailable(input, v, err, assessment);
      }
    }
  }

  /** A new session's state; it starts in the safety state when the person is in it elsewhere. */
  private async startState(input: TurnInput, v: TurnVariant): Promise<SessionState> {
    const state = newSessionState(v.navigator.initialState(), v.version);
    const inSafety = await this.deps.marks?.exists(safetyMark(input)).catch(() => false);
    if (inSafety) state.safety = { active: true, safeStatements: 0, referrals: 0 };
    return state;
  }

  /** Keeps the person-level safety mark in step with this session's safety state. */
  private async trackPersonSafety(input: TurnInput, before: SessionState, after: SessionState): Promise<void> {
    const marks = this.deps.marks;
    if (!marks || before.safety.active === after.safety.active) return;
    try {
      if (after.safety.active) await marks.setIfAbsent(safetyMark(input), 30 * 86_400);
      else await marks.clear(safetyMark(input));
    } catch (err) {
      this.logger.warn({ sessionId: input.sessionId, err: errorCode(err) }, 'could not update the person-level safety mark');
    }
  }

  /** Decides the reply and the next state for one message (no writes). */
  private async step(ctx: StepContext, turn: TurnTexts, prev: SessionState): Promise<Step> {
    const { input, v, io } = ctx;
    const { text } = turn;
    const { responses } = v.config;
    const safetyConfig = this.deps.config.safety; // never overridden
    // The session's last few messages count too (their cues, never their text); the release
    // phrases and the check-in answer only matter in the safety state or while a check-in is open.
    const awaiting = prev.safety.active || prev.safety.checkInAt !== undefined;
    const assessment = this.crisis.inContext(awaiting ? this.crisis.withRelease(turn.assessment, text) : turn.assessment, prev.safety.recent ?? []);
    const recent = [...(prev.safety.recent ?? []), assessment.cues].slice(-this.crisis.contextWindow);
    const state: SessionState = { ...prev, turns: prev.turns + 1, safety: { ...prev.safety, recent } };

    // A risk statement always gets the fixed crisis response, whatever else the message is; a
    // possible one, the check-in; the answer to a check-in decides between the two.
    const safety = safetyStep(safetyConfig, state.safety, assessment, { turn: state.turns, command: parseCommand(text) !== null });
    if (safety && safety.event !== 'holding' && safety.event !== 'released') return this.safetyReply(ctx, state, safety);

    // The limit is per message: a burst of ordinary messages is not "too long" together.
    if (turn.texts.some((t) => t.length > this.maxChars)) {
      return { kind: 'too_long', reply: fillSlots(responses.system.too_long, { limit: this.maxChars }), state, keepUserText: false };
    }

    // A pending "forget" is confirmed only by the person who asked; anything else cancels it
    // and is then handled as usual (in a shared thread, someone else's "yes" erases nothing).
    let cancelled = false;
    if (state.pending) {
      if (state.pending.userId === input.userId && isConfirmation(text)) {
        return { kind: 'command', reply: responses.commands.forget_done, state, keepUserText: false, erase: true, action: 'forget' };
      }
      cancelled = state.pending.userId === input.userId;
      state.pending = undefined;
    }
    const frame = (reply: string) => (cancelled ? `${responses.commands.forget_cancelled}\n\n${reply}` : reply);
    const show = io.show;
    const step = await this.respondTo({ ...ctx, io: { ...io, show: show && ((part) => show(frame(part))) } }, text, state, safety);
    return { ...step, reply: frame(step.reply) };
  }

  /** Commands, the safety hold, or the conversation itself. */
  private async respondTo(ctx: StepContext, text: string, state: SessionState, safety: SafetyOutcome | null): Promise<Step> {
    const { input, v, io } = ctx;
    const { responses } = v.config;
    // Commands work in every state, the safety state included (help carries the crisis lines; forget is a right).
    const command = parseCommand(text);
    if (command === 'help') return { kind: 'command', reply: responses.commands.help, state, keepUserText: true, action: 'help' };
    if (command === 'status') {
      return { kind: 'command', reply: statusText(v.config.navigation, responses, state), state, keepUserText: true, action: 'status' };
    }
    if (command === 'forget') {
      return { kind: 'command', reply: responses.commands.forget_confirm, state: { ...state, pending: { command: 'forget', userId: input.userId } }, keepUserText: false, action: 'forget_confirm' };
    }
    if (command === 'reset') {
      // Starting over keeps the safety state and the disclosure flag: a reset is not a way out of the safety protocol.
      const fresh = newSessionState(v.navigator.initialState(), v.version);
      const reset: SessionState = { ...fresh, safety: state.safety, disclosed: state.disclosed, turns: state.turns };
      return { kind: 'command', reply: responses.commands.reset, state: reset, keepUserText: false, resetHistory: true, action: 'reset' };
    }

    // In the safety state the normal flow waits until the release rule is met.
    if (safety) return this.safetyReply(ctx, state, safety);

    // The variant's own offline lines unless an LLM is configured; a flag can keep a tenant or
    // an experiment arm on the offline responder even then.
    const responder = this.deps.responder && v.config.flags.flags.llm_responder !== false ? this.deps.responder : v.offline;
    // A further opinion, asked only for a message that goes to the conversation (never for a command,
    // a risk or the safety state), in parallel with retrieval and the responder; awaited before the reply.
    const opinion = this.deps.moderation?.check(text, io.signal);
    const step = await conversationStep(
      { retriever: this.deps.retriever, store: this.deps.store, logger: this.logger, k: this.k },
      { input, text, state, variant: v, responder, show: io.show, signal: io.signal, opinion },
    );
    if (step !== 'risk') return step;
    // A second opinion on the crisis check (moderation or an LLM saw a risk it missed): the same fixed response and safety state.
    return this.safetyReply(ctx, state, safetyStep(this.deps.config.safety, state.safety, { ...NO_RISK, risk: 'crisis' })!);
  }

  private safetyReply(ctx: Pick<StepContext, 'input' | 'v'>, state: SessionState, safety: SafetyOutcome): Step {
    const { input, v } = ctx;
    let reply = safety.reply;
    // Released, or a clear no to the check-in: back to the conversation where it was.
    if (safety.event === 'released' || safety.event === 'cleared') reply += `\n\n${this.prompt(input.sessionId, v, state)}`;
    this.logger.info({ sessionId: input.sessionId, event: safety.event, ...(safety.reason ? { reason: safety.reason } : {}) }, 'safety protocol');
    const kind: TurnKind = safety.event === 'referral' ? 'crisis' : safety.event === 'check_in' ? 'check_in' : 'safety';
    return { kind, reply, state: { ...state, safety: safety.state, pending: undefined }, keepUserText: true, action: `safety:${safety.event}` };
  }

  /** The line that asks for what the current substate still needs (after a pause). */
  private prompt(sessionId: string, v: TurnVariant, state: SessionState): string {
    const action = v.navigator.promptAction(state.nav);
    return v.offline.line({ action, slots: state.slots, lastLine: state.lastLine, sessionId, turn: state.turns, examples: [] });
  }

  /** A session whose substate this config no longer has moves to the nearest one that exists. */
  private onCurrentConfig(state: SessionState, v: TurnVariant, sessionId: string): SessionState {
    if (v.navigator.has(state.nav.substate)) return state;
    const nav = v.navigator.relocate(state.nav);
    this.logger.warn({ sessionId, from: state.nav.substate, to: nav.substate, config: v.version }, 'substate no longer in config; moved to the nearest that exists');
    return { ...state, nav };
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
    return { kind, reply, sessionId: input.sessionId, unavailable: true };
  }

  /** The one place a turn's observer event is built: who and which config, then what happened. */
  private observe(input: TurnInput, v: TurnVariant, what: Omit<TurnEvent, 'platform' | 'tenant' | 'experiments' | 'configVersion'>): void {
    this.deps.observer?.turn({ platform: input.platform, tenant: v.tenant, experiments: v.experiments, configVersion: v.version, ...what });
  }
}

function safetyMark(input: TurnInput): string {
  return `safety:${userKey(input.platform, input.userId)}`;
}
