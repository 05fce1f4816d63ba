/**
 * Deciding a turn: what to say and the next state, from the state as loaded and the
 * messages. Nothing here writes: the only I/O is what it is handed (retrieval, the
 * responder, moderation, a history reader), and recording is the turn transaction's.
 *
 *   the crisis check in the session's context
 *     -> safety protocol (crisis response, check-in, safety state) | size limit
 *     -> pending confirmation | command | the safety hold
 *     -> the conversation (classify -> navigate -> retrieve -> respond)
 */
import type { SafetyConfig } from '../config/schemas.js';
import type { Retriever } from '../rag/retriever.js';
import type { Responder } from '../responder/responder.js';
import type { TurnVariant } from '../overrides/variant.js';
import { NO_RISK, type CrisisCheck } from '../safety/crisis-check.js';
import type { RiskOpinion } from '../safety/opinion.js';
import { safetyStep, type SafetyOutcome } from '../safety/protocol.js';
import type { HistoryEntry } from '../session/store.js';
import { fillSlots } from '../text/template.js';
import type { Logger } from '../util/logger.js';
import type { TurnTexts } from './burst.js';
import { conversationStep } from './conversation.js';
import { humanStep, withAlert, type TurnAlerting } from './alerting.js';
import { parseSettings, settingsStep, stopStep } from './settings.js';
import { withCountryLines } from '../safety/crisis-lines.js';
import { resolveCountry } from '../safety/country.js';
import type { Prefs } from '../session/prefs.js';
import { isConfirmation, parseCommand } from './input.js';
import type { TurnKind } from './observer.js';
import { newSessionState, type SessionState } from './session-state.js';
import { recentLines } from './recent-lines.js';
import { statusText } from './status.js';
import { summaryText } from './summary.js';
import type { Step, TurnInput } from './types.js';

/** What deciding may use: fixed for the engine's life. */
export interface DecideDeps {
  crisis: CrisisCheck;
  /** The base config's safety section: never overridden by a tenant or an experiment. */
  safety: SafetyConfig;
  /** Longest message answered, in characters. */
  maxChars: number;
  retriever: Retriever;
  /** Examples retrieved per category. */
  k: number;
  /** The LLM responder when one is configured; otherwise the variant's offline responder answers. */
  responder: Responder | undefined;
  moderation: RiskOpinion | undefined;
  logger: Logger;
  /** Whether check-ins can be scheduled at all (a schedule backend is configured). */
  checkins?: boolean | undefined;
}

/** One turn to decide: who, under which config, what they wrote, the state before it, and the turn's I/O. */
export interface TurnToDecide {
  input: TurnInput;
  v: TurnVariant;
  turn: TurnTexts;
  /** The session's state as loaded (or a new session's first state). */
  state: SessionState;
  /** The session's last `limit` history entries, read only when the responder wants context. */
  history: (limit: number) => Promise<HistoryEntry[]>;
  /** Shows the reply so far (a streaming preview), framed like the final reply. */
  show: ((replySoFar: string) => void) | undefined;
  /** Aborted when the turn was handed to another worker. */
  signal: AbortSignal | undefined;
  /** Where this tenant's safety alerts go, and this turn's episode seed (undefined: no alerts). */
  alerting?: TurnAlerting | undefined;
  /** The person's preferences as loaded with the session ({} when none). */
  prefs?: Prefs | undefined;
}

/** The reply and the next state for one turn. */
export async function decideTurn(deps: DecideDeps, t: TurnToDecide): Promise<Step> {
  const { input, v, turn } = t;
  const { text } = turn;
  const { responses } = v.config;
  const prev = onCurrentConfig(deps, t.state, v, input.sessionId);
  // The session's last few messages count too (their cues, never their text); the release
  // phrases and the check-in answer only matter in the safety state or while a check-in is open.
  const awaiting = prev.safety.active || prev.safety.checkInAt !== undefined;
  const assessment = deps.crisis.inContext(awaiting ? deps.crisis.withRelease(turn.assessment, text) : turn.assessment, prev.safety.recent ?? []);
  const recent = [...(prev.safety.recent ?? []), assessment.cues].slice(-deps.crisis.contextWindow);
  const state: SessionState = { ...prev, turns: prev.turns + 1, safety: { ...prev.safety, recent } };

  // A risk statement always gets the fixed crisis response, whatever else the message is; a
  // possible one, the check-in; the answer to a check-in decides between the two.
  const safety = safetyStep(deps.safety, state.safety, assessment, { turn: state.turns, command: parseCommand(text) !== null });
  if (safety && safety.event !== 'holding' && safety.event !== 'released') return safetyReply(deps, t, state, safety);

  // The limit is per message: a burst of ordinary messages is not "too long" together.
  if (turn.texts.some((m) => m.length > deps.maxChars)) {
    return { kind: 'too_long', reply: fillSlots(responses.system.too_long, { limit: deps.maxChars }), state, keepUserText: false };
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
  const show = t.show;
  const step = await respondTo(deps, { ...t, show: show && ((part) => show(frame(part))) }, state, safety);
  return { ...step, reply: frame(step.reply) };
}

/** Commands, the safety hold, or the conversation itself. */
async function respondTo(deps: DecideDeps, t: TurnToDecide, state: SessionState, safety: SafetyOutcome | null): Promise<Step> {
  const { input, v, turn } = t;
  const { responses } = v.config;
  // Commands work in every state, the safety state included (help carries the crisis lines; forget is a right).
  const command = parseCommand(turn.text);
  // Crisis lines in the help text: the person's country's first.
  if (command === 'help') return { kind: 'command', reply: withCountryLines(responses.commands.help, deps.safety.resources, countryOf(deps, t)), state, keepUserText: true, action: 'help' };
  if (command === 'settings') {
    const prefs = t.prefs ?? {};
    const checkins = !deps.checkins ? 'unavailable' : input.direct ? 'available' : 'not_here';
    return settingsStep(responses, deps.safety, { request: parseSettings(turn.text)!, prefs, platformCountry: t.input.platformCountry, platform: input.platform, state, checkins });
  }
  if (command === 'stop') return stopStep(responses, { prefs: t.prefs ?? {}, state });
  if (command === 'status') {
    return { kind: 'command', reply: statusText(v.config.navigation, responses, state), state, keepUserText: true, action: 'status' };
  }
  if (command === 'summary') {
    return { kind: 'command', reply: summaryText(v.config.navigation, responses, state), state, keepUserText: true, action: 'summary' };
  }
  // A person, on request: an alert of its own kind (where alerts go somewhere); the conversation stays where it was.
  if (command === 'human') return humanStep(deps.safety, state, t.alerting);
  if (command === 'breathe') {
    // The short relaxation again, as often as wanted: the conversation stays where it was.
    const reply = v.offline.line({ action: 'breathe', slots: state.slots, recentLines: recentLines(state), sessionId: input.sessionId, turn: state.turns, examples: [] });
    return { kind: 'command', reply, state, keepUserText: true, action: 'breathe' };
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
  if (safety) return safetyReply(deps, t, state, safety);

  // The variant's own offline lines unless an LLM is configured; a flag can keep a tenant or
  // an experiment arm on the offline responder even then.
  const responder = deps.responder && v.config.flags.flags.llm_responder !== false ? deps.responder : v.offline;
  // A further opinion, asked only for a message that goes to the conversation (never for a command,
  // a risk or the safety state), in parallel with retrieval and the responder; awaited before the reply.
  const opinion = deps.moderation?.check(turn.text, t.signal);
  const step = await conversationStep(
    { retriever: deps.retriever, history: t.history, logger: deps.logger, k: deps.k },
    { input, text: turn.text, state, variant: v, responder, show: t.show, signal: t.signal, opinion, replyLength: t.prefs?.replies === 'short' ? 'short' : 'normal' },
  );
  if (step !== 'risk') return step;
  // A second opinion on the crisis check (moderation or an LLM saw a risk it missed): the same fixed response and safety state.
  return safetyReply(deps, t, state, safetyStep(deps.safety, state.safety, { ...NO_RISK, risk: 'crisis' })!);
}

function safetyReply(deps: DecideDeps, t: Pick<TurnToDecide, 'input' | 'v' | 'alerting' | 'prefs'>, state: SessionState, safety: SafetyOutcome): Step {
  const { input, v } = t;
  // The start of a stay in the safety state raises an alert, and the crisis response says so (only when true).
  const alerted = withAlert(deps.safety, state.safety, safety, t.alerting);
  // The fixed texts with crisis lines (the response, the check-in) list the person's country's first.
  let reply = safety.event === 'referral' || safety.event === 'check_in' ? withCountryLines(alerted.reply, deps.safety.resources, countryOf(deps, t)) : alerted.reply;
  // Released, or a clear no to the check-in: back to the conversation where it was.
  if (safety.event === 'released' || safety.event === 'cleared') reply += `\n\n${prompt(input.sessionId, v, state)}`;
  deps.logger.info({ sessionId: input.sessionId, event: safety.event, ...(safety.reason ? { reason: safety.reason } : {}) }, 'safety protocol');
  const kind: TurnKind = safety.event === 'referral' ? 'crisis' : safety.event === 'check_in' ? 'check_in' : 'safety';
  return { kind, reply, state: { ...state, safety: alerted.state, pending: undefined }, keepUserText: true, action: `safety:${safety.event}`, ...(alerted.alert ? { alert: alerted.alert } : {}) };
}

/** The country whose crisis lines come first: the person's setting, else their platform's word, else the default. */
function countryOf(deps: DecideDeps, t: Pick<TurnToDecide, 'input' | 'prefs'>): string | undefined {
  return resolveCountry({ chosen: t.prefs?.country, platform: t.input.platformCountry ?? t.prefs?.platformCountry, fallback: deps.safety.resources.default_country });
}

/** The line that asks for what the current substate still needs (after a pause). */
function prompt(sessionId: string, v: TurnVariant, state: SessionState): string {
  const action = v.navigator.promptAction(state.nav);
  return v.offline.line({ action, slots: state.slots, recentLines: recentLines(state), sessionId, turn: state.turns, examples: [] });
}

/** A session whose substate this config no longer has moves to the nearest one that exists. */
function onCurrentConfig(deps: DecideDeps, state: SessionState, v: TurnVariant, sessionId: string): SessionState {
  if (v.navigator.has(state.nav.substate)) return state;
  const nav = v.navigator.relocate(state.nav);
  deps.logger.warn({ sessionId, from: state.nav.substate, to: nav.substate, config: v.version }, 'substate no longer in config; moved to the nearest that exists');
  return { ...state, nav };
}
