/**
 * The conversation engine. One turn, top to bottom:
 *
 *   sanitize -> crisis check -> open session (lock + load)
 *     -> safety protocol | size limit | pending confirmation | command
 *     -> classify -> navigate -> retrieve -> respond
 *   -> commit (state, history, meta; releases the lock)
 *
 * Platforms reach it through `handleTurn`; it knows nothing about them.
 */
import { Classifier } from '../classifier/classifier.js';
import { Navigator, type Decision } from '../navigator/navigator.js';
import { CrisisCheck, type SafetyAssessment } from '../safety/crisis-check.js';
import { safetyStep, type SafetyOutcome } from '../safety/protocol.js';
import { OfflineResponder } from '../responder/offline-responder.js';
import type { Judged, Responder, ResponderInput, StepPlan } from '../responder/responder.js';
import { stepPlan } from './step-plan.js';
import { fillSlots } from '../responder/template.js';
import type { RetrievedExample } from '../rag/retriever.js';
import { StaleSessionError, userKey, type OpenSession } from '../session/store.js';
import { errorCode } from '../util/error-code.js';
import { silentLogger, type Logger } from '../util/logger.js';
import { isBlank, isConfirmation, parseCommand, sanitize } from './input.js';
import type { TurnKind } from './observer.js';
import { migrateState, newSessionState, type SessionState } from './session-state.js';
import { withLockKeptAlive } from './lock-keepalive.js';
import { assessBurst, unanswered, type TurnTexts } from './burst.js';
import { NotDeliveredError, TurnAbortedError } from './turn-errors.js';
import { commitAfterDelivery } from './commit.js';
import { historyEntries, sessionMeta } from './records.js';
import { statusText } from './status.js';
import type { EngineDeps, Step, TurnHooks, TurnInput, TurnResult } from './types.js';

/** Shows the reply so far (streaming preview). */
type Show = (replySoFar: string) => void;

export type { EngineDeps, EngineOptions, TurnHooks, TurnInput, TurnResult } from './types.js';

export class Engine {
  readonly classifier: Classifier;
  readonly navigator: Navigator;
  readonly crisis: CrisisCheck;
  readonly offline: OfflineResponder;
  private readonly responder: Responder;
  private readonly logger: Logger;
  private readonly maxChars: number;
  private readonly k: number;
  private readonly attempts: number;
  private readonly now: () => Date;

  constructor(private readonly deps: EngineDeps) {
    const { config } = deps;
    this.classifier = new Classifier(config.classification);
    this.navigator = new Navigator(config.navigation, config.classification);
    this.crisis = new CrisisCheck(config.safety);
    this.offline = new OfflineResponder(config.responses);
    this.responder = deps.responder ?? this.offline;
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
    return this.crisis.assess(sanitize(text)).risk ? this.deps.config.safety.response : null;
  }

  /** Texts an adapter shows outside a conversation (an app home page, a help command). */
  get texts(): { disclosure: string; help: string; unavailable: string } {
    const { responses } = this.deps.config;
    return { disclosure: responses.disclosure, help: responses.commands.help, unavailable: responses.system.unavailable };
  }

  /** Names of the active backends, for the start-up banner. */
  get backends(): Record<string, string> {
    return { store: this.deps.store.name, retriever: this.deps.retriever.name, responder: this.responder.name };
  }

  async handleTurn(input: TurnInput, hooks: TurnHooks = {}): Promise<TurnResult> {
    const started = performance.now();
    const parts = input.parts?.map((p) => ({ seq: p.seq, text: sanitize(p.text) })).filter((p) => !isBlank(p.text));
    const text = parts ? parts.map((p) => p.text).join('\n') : sanitize(input.text);
    if (isBlank(text)) return { kind: 'ignored', reply: null, sessionId: input.sessionId };
    // Safety first: every message, whatever its size or state, is checked before anything else.
    const assessment = assessBurst(this.crisis, parts?.map((p) => p.text) ?? [text]);

    for (let attempt = 1; ; attempt++) {
      let session: OpenSession<unknown>;
      try {
        session = await this.deps.store.open(input.sessionId);
      } catch (err) {
        return this.unavailable(input, err, assessment);
      }
      let delivered = false;
      try {
        const existing = session.record ? migrateState(session.record.state) : null;
        if (session.record && !existing) this.logger.warn({ sessionId: input.sessionId }, 'stored session state unusable; starting over');
        const state = existing ?? (await this.startState(input));
        const turn = unanswered(this.crisis, parts, state.queueSeq, text, assessment);
        if (!turn) {
          await this.deps.store.release(session);
          this.logger.info({ sessionId: input.sessionId }, 'queued messages already answered; not answering again');
          return { kind: 'ignored', reply: null, sessionId: input.sessionId };
        }
        const { step, reply } = await withLockKeptAlive(this.deps.store, session, this.logger, async () => {
          // The first reply of a session says plainly what this is (framing previews too).
          const frame = (reply: string) => (state.disclosed ? reply : `${this.deps.config.responses.disclosure}\n\n${reply}`);
          const show = hooks.preview && ((part: string) => hooks.preview!(frame(part)));
          const step = await this.step(input, turn, this.onCurrentConfig(state, input.sessionId), show, hooks.signal);
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
        if (turn.seq !== undefined) step.state.queueSeq = turn.seq;

        if (step.erase) {
          const erased = await this.deps.store.eraseUser(userKey(input.platform, input.userId), 'user', session);
          await this.deps.store.release(session);
          await this.deps.marks?.clear(safetyMark(input)).catch(() => undefined); // erasure covers person-level flags too
          this.logger.info({ sessionId: input.sessionId, sessions: erased.length }, 'user data erased on request');
        } else {
          const change = {
            state: step.state,
            meta: sessionMeta(input, session.record?.meta, step.state, this.now()),
            append: historyEntries(turn.texts, reply, step, this.now()),
            resetHistory: step.resetHistory ?? false,
          };
          await (delivered ? commitAfterDelivery(this.deps.store, session, change) : this.deps.store.commit(session, change));
        }
        await this.trackPersonSafety(input, state, step.state);
        const substate = step.state.nav.substate;
        this.deps.observer?.turn({
          platform: input.platform,
          tenant: input.tenant,
          kind: step.kind,
          substate,
          action: step.action,
          interrupt: step.interrupt,
          crisisReferral: step.kind === 'crisis',
          newSession: !session.record,
          durationMs: performance.now() - started,
        });
        this.logger.debug({ sessionId: input.sessionId, kind: step.kind, substate, action: step.action }, 'turn');
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
        return this.unavailable(input, err, assessment);
      }
    }
  }

  /** A new session's state; it starts in the safety state when the person is in it elsewhere. */
  private async startState(input: TurnInput): Promise<SessionState> {
    const state = newSessionState(this.navigator.initialState(), this.deps.config.navigation.version);
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
  private async step(input: TurnInput, turn: TurnTexts, prev: SessionState, show: Show | undefined, signal: AbortSignal | undefined): Promise<Step> {
    const { text, assessment } = turn;
    const { responses, safety: safetyConfig } = this.deps.config;
    const state: SessionState = { ...prev, turns: prev.turns + 1 };

    // A risk statement always gets the fixed crisis response, whatever else the message is.
    const safety = safetyStep(safetyConfig, state.safety, assessment);
    if (safety?.event === 'referral') return this.safetyReply(input, state, safety);

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
    const step = await this.respondTo(input, text, state, safety, show && ((part) => show(frame(part))), signal);
    return { ...step, reply: frame(step.reply) };
  }

  /** Commands, the safety hold, or the conversation itself. */
  private async respondTo(input: TurnInput, text: string, state: SessionState, safety: SafetyOutcome | null, show: Show | undefined, signal: AbortSignal | undefined): Promise<Step> {
    const { responses } = this.deps.config;
    // Commands work in every state, the safety state included (help carries the crisis lines; forget is a right).
    const command = parseCommand(text);
    if (command === 'help') return { kind: 'command', reply: responses.commands.help, state, keepUserText: true, action: 'help' };
    if (command === 'status') {
      return { kind: 'command', reply: statusText(this.deps.config.navigation, responses, state), state, keepUserText: true, action: 'status' };
    }
    if (command === 'forget') {
      return { kind: 'command', reply: responses.commands.forget_confirm, state: { ...state, pending: { command: 'forget', userId: input.userId } }, keepUserText: false, action: 'forget_confirm' };
    }
    if (command === 'reset') {
      // Starting over keeps the safety state and the disclosure flag: a reset is not a way out of the safety protocol.
      const fresh = newSessionState(this.navigator.initialState(), this.deps.config.navigation.version);
      const reset: SessionState = { ...fresh, safety: state.safety, disclosed: state.disclosed, turns: state.turns };
      return { kind: 'command', reply: responses.commands.reset, state: reset, keepUserText: false, resetHistory: true, action: 'reset' };
    }

    // In the safety state the normal flow waits until the release rule is met.
    if (safety) return this.safetyReply(input, state, safety);

    const classification = this.classifier.classify(text);
    const known = { ...state.slots, ...classification.slots };
    // The navigator decides; a responder that judges criteria (an LLM) may only pick one of its choices.
    const decide = (judged?: Judged) => this.navigator.navigate({ state: state.nav, classification, slots: known, text, signals: judged?.criteria, quotes: judged?.quotes });
    const base = decide();
    // What the navigator does when a responder judges criteria met as well (those the matcher found stay met).
    const judge = (j: Judged) => (j.criteria.length === 0 ? base : decide({ criteria: [...base.criteriaMet, ...j.criteria], quotes: j.quotes }));
    const slots = { ...known, ...base.captured };
    const plan = this.responder.judgesCriteria ? stepPlan(this.navigator, state.nav, base, judge, slots) : undefined;
    const byCategory = await this.examples(input.sessionId, text, base, plan);
    const examples = byCategory.get(base.ragCategory) ?? [];
    const historyWindow = this.responder.historyWindow ?? 0;
    // A history that cannot be read (a damaged entry, a retired key) costs the context, not the turn.
    const history = historyWindow > 0 ? await this.deps.store.history(input.sessionId, historyWindow).catch((err: unknown) => {
      this.logger.warn({ sessionId: input.sessionId, err: errorCode(err) }, 'history unreadable; replying without it');
      return [];
    }) : [];
    const withCap = (d: Decision, line: string) => (d.capReached ? `${responses.system.cap_move_on} ${line}` : line);
    const respondInput: ResponderInput = {
      sessionId: input.sessionId,
      action: base.action,
      substate: base.substate,
      slots,
      examples,
      lastLine: state.lastLine,
      turn: state.turns,
      text,
      classification,
      history,
      signal,
      ...(plan ? { plan: { ...plan, examples: byCategory } } : {}),
      ...(show ? { onText: (line: string, judged: Judged) => show(withCap(judge(judged), line)) } : {}),
    };
    let decision = base;
    let line: string;
    try {
      const out = await this.responder.respond(respondInput);
      if (out.risk) {
        // A second opinion on the crisis check (an LLM saw a risk it missed): the same fixed response and safety state.
        this.logger.warn({ sessionId: input.sessionId }, 'responder flagged a risk the crisis check missed');
        return this.safetyReply(input, state, safetyStep(this.deps.config.safety, state.safety, { risk: 'crisis', safeStatement: false, denial: false })!);
      }
      line = out.text;
      if (out.criteriaMet?.length) decision = judge({ criteria: out.criteriaMet, quotes: out.quotes ?? {} });
      if (decision.action !== (out.action ?? base.action)) {
        // A text written for another step than the navigator's: not sent (the responder should have caught it).
        this.logger.warn({ sessionId: input.sessionId, action: decision.action }, 'responder wrote for another step; using the offline line');
        decision = base;
        line = this.offline.line(respondInput);
      }
    } catch (err) {
      // The person always gets a reply: the offline line stands in for a failed responder.
      this.logger.warn({ sessionId: input.sessionId, err: errorCode(err) }, 'responder failed; using the offline line');
      line = this.offline.line(respondInput);
    }
    Object.assign(slots, decision.captured);
    if (decision.capReached) this.logger.info({ sessionId: input.sessionId, from: decision.from, to: decision.substate }, 'attempt cap reached; moving on');
    return {
      kind: 'reply',
      reply: withCap(decision, line),
      state: { ...state, nav: decision.state, slots, lastLine: line, facts: [...state.facts, ...decision.criteriaMet] },
      keepUserText: true,
      action: decision.action,
      interrupt: decision.interrupt,
    };
  }

  private safetyReply(input: TurnInput, state: SessionState, safety: SafetyOutcome): Step {
    let reply = safety.reply;
    if (safety.event === 'released') reply += `\n\n${this.prompt(input.sessionId, state)}`;
    this.logger.info({ sessionId: input.sessionId, event: safety.event }, 'safety protocol');
    const kind: TurnKind = safety.event === 'referral' ? 'crisis' : 'safety';
    return { kind, reply, state: { ...state, safety: safety.state, pending: undefined }, keepUserText: true, action: `safety:${safety.event}` };
  }

  /**
   * Retrieved examples by category, when the responder would use them: the navigator's
   * step's, and with a plan every option's (one embedding). A retrieval failure costs the
   * examples, not the turn.
   */
  private async examples(sessionId: string, text: string, base: Decision, plan: Omit<StepPlan, 'examples'> | undefined): Promise<Map<string | undefined, RetrievedExample[]>> {
    const out = new Map<string | undefined, RetrievedExample[]>();
    if (!(this.responder.usesExamples?.(base.action) ?? true)) return out;
    const categories = [...new Set([base.ragCategory, ...(plan?.choices.map((c) => c.category) ?? [])])].filter((c) => c !== undefined);
    if (categories.length === 0) return out;
    const { retriever } = this.deps;
    try {
      const found = retriever.retrieveEach
        ? await retriever.retrieveEach(text, categories, this.k)
        : await Promise.all(categories.map((category) => retriever.retrieve({ text, category, k: this.k })));
      categories.forEach((c, i) => out.set(c, found[i]!));
    } catch (err) {
      this.logger.warn({ sessionId, err: errorCode(err) }, 'retrieval failed; replying without examples');
    }
    return out;
  }

  /** The line that asks for what the current substate still needs (after a pause). */
  private prompt(sessionId: string, state: SessionState): string {
    const action = this.navigator.promptAction(state.nav);
    return this.offline.line({ action, slots: state.slots, lastLine: state.lastLine, sessionId, turn: state.turns, examples: [] });
  }

  /** A session whose substate no longer exists (config changed) restarts its stage at the start. */
  private onCurrentConfig(state: SessionState, sessionId: string): SessionState {
    if (this.navigator.has(state.nav.substate)) return state;
    this.logger.warn({ sessionId, substate: state.nav.substate }, 'substate no longer in config; moving to the start');
    return { ...state, nav: { ...this.navigator.initialState(), completed: state.nav.completed } };
  }

  /**
   * The store failed: an honest "try again shortly", never a crash. A crisis
   * statement still gets the fixed crisis response: resources must not wait for storage.
   */
  private unavailable(input: TurnInput, err: unknown, assessment: SafetyAssessment): TurnResult {
    this.logger.error({ sessionId: input.sessionId, err: errorCode(err) }, 'session store unavailable');
    const { safety, responses } = this.deps.config;
    const reply = assessment.risk ? safety.response : responses.system.unavailable;
    const kind: TurnKind = assessment.risk ? 'crisis' : 'unavailable';
    this.deps.observer?.turn({
      platform: input.platform,
      tenant: input.tenant,
      kind,
      substate: undefined,
      action: undefined,
      interrupt: undefined,
      crisisReferral: Boolean(assessment.risk),
      newSession: false,
      durationMs: 0,
    });
    return { kind, reply, sessionId: input.sessionId, unavailable: true };
  }
}

function safetyMark(input: TurnInput): string {
  return `safety:${userKey(input.platform, input.userId)}`;
}
