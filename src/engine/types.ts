/** The engine's public input, output and wiring types, and the record one step of a turn produces. */
import type { EngineConfig } from '../config/load.js';
import type { Retriever } from '../rag/retriever.js';
import type { Responder } from '../responder/responder.js';
import type { RiskOpinion } from '../safety/opinion.js';
import type { ConfigSource } from '../overrides/variant.js';
import type { Marks } from '../session/marks.js';
import type { SessionStore } from '../session/store.js';
import type { Logger } from '../util/logger.js';
import type { RiskScorer } from '../safety/crisis-check.js';
import type { TurnKind, TurnObserver } from './observer.js';
import type { AlertKind, AlertOrigin, AlertTarget } from '../safety/alerts/alert.js';
import type { Prefs } from '../session/prefs.js';
import type { CheckinSchedule } from '../checkins/schedule.js';
import type { AlertQueue, RaiseOutcome } from '../safety/alerts/alert-queue.js';
import type { SessionState } from './session-state.js';

export interface TurnInput {
  /** Stable id of the conversation, e.g. `console:alice`, `discord:dm:123`. */
  sessionId: string;
  /** The person, unique within the platform. */
  userId: string;
  /** Platform name, e.g. `console`, `slack`, `discord`. */
  platform: string;
  text: string;
  tenant?: string | undefined;
  /**
   * Messages taken from the durable queue, in the person's order (the platform's, else
   * arrival), answered together in one turn (a burst). When given, they replace `text`. Each
   * has the queue's per-session sequence number: parts the session's last turn recorded were
   * answered already (an instance died after recording its turn) and are dropped, so a
   * redelivery never answers twice. `order`: the platform's order (QueuedMessage.order); a
   * part before one already answered is answered all the same, marked late in history.
   */
  parts?: Array<{ seq: number; text: string; order?: string | undefined }> | undefined;
  /**
   * Where the conversation is on its platform (the queue's replyTo and the platform id of the
   * turn's first message): a safety alert links to it, and its episode id is derived from it,
   * so every try at the turn raises the same episode.
   */
  origin?: AlertOrigin | undefined;
  /**
   * Where the person's platform says they are (ISO 3166-1 alpha-2): a Slack user's time zone or
   * locale, Discord's interaction locale. Kept in their preferences; their own setting wins.
   */
  platformCountry?: string | undefined;
  /** The time zone the platform says the person is in (a Slack profile's), kept like platformCountry. */
  platformTimeZone?: string | undefined;
  /** A direct-message conversation (only the person and the bot): where check-ins may be sent. */
  direct?: boolean | undefined;
}

export interface TurnHooks {
  /**
   * Posts the reply while the session is still locked, before the turn is recorded. A worker
   * that dies after this and before the record leaves the turn to be redone (a possible
   * duplicate reply); one that dies before it leaves nothing half-done. Should not throw:
   * platform delivery handles its own retries. `false` (nothing was posted) or a throw
   * records nothing: the result is `unavailable` and the turn is redone later.
   */
  deliver?: (reply: string) => Promise<boolean | void>;
  /**
   * The reply so far, while an LLM generates it (each call carries the whole text so far,
   * already checked by the reply guards up to a sentence end). For platforms that edit a
   * message in place; fire-and-forget, throttled by the platform. `deliver` still follows
   * with the final reply, which may differ (a guard replaced it) and must replace the preview.
   */
  preview?: (partialReply: string) => void;
  /** Aborted when the turn was handed to another worker: nothing is posted or recorded after that. */
  signal?: AbortSignal;
}

/**
 * How a turn ended: one of four outcomes, switched on by whoever runs the turn.
 * Every outcome names the session and carries `kind` and `reply` (null when there is
 * nothing to say), so a caller that only shows replies (the terminal) needs no switch.
 */
export type TurnResult = Answered | Redo | RecordFailed | Ignored;

/** Answered and recorded. */
export interface Answered {
  outcome: 'answered';
  sessionId: string;
  kind: TurnKind;
  reply: string;
  /** `hooks.deliver` posted the reply; when false the caller posts `reply`. */
  delivered: boolean;
  substate: string;
  action: string | undefined;
}

/**
 * Nothing was recorded; a queue redoes the turn. `reply`, when set, is what can be said
 * now: the crisis response or the check-in (resources must not wait for storage), or,
 * for a caller with no queue, the honest "try again shortly".
 */
export interface Redo {
  outcome: 'redo';
  sessionId: string;
  why: 'store_unavailable' | 'not_delivered' | 'handed_over';
  kind: TurnKind | 'ignored';
  reply: string | null;
}

/** The reply went out but the turn could not be recorded. Not redone: that would answer twice. */
export interface RecordFailed {
  outcome: 'record_failed';
  sessionId: string;
  kind: 'unavailable';
  reply: null;
}

/** Nothing to answer: a blank message, messages answered already (a redelivery), or a session id that cannot be stored. */
export interface Ignored {
  outcome: 'ignored';
  sessionId: string;
  why: 'blank' | 'answered_already' | 'invalid_session';
  kind: 'ignored';
  reply: null;
}

export interface EngineOptions {
  /** Longest message processed, in characters. Default 4,000. */
  maxMessageChars?: number;
  /** Put the message and reply texts into the debug log line of each turn (LOG_MESSAGE_TEXT; off by default: health data). */
  logMessageText?: boolean;
  /** Attempts when a commit finds the session changed. Default 3. */
  commitAttempts?: number;
  now?: () => Date;
}

export interface EngineDeps {
  config: EngineConfig;
  store: SessionStore;
  retriever: Retriever;
  /** Default: the offline responder built from the config. */
  responder?: Responder;
  /**
   * A further opinion on risk, run in parallel with the turn; never delays or weakens the
   * offline check. Default: none (setup.ts builds OpenAI's moderation when MODERATION resolves on).
   */
  moderation?: RiskOpinion | undefined;
  /**
   * The crisis check's trained second opinion. Default: the model shipped in
   * data/safety/risk_model.json; `null` runs the risk grammar alone (tests of the grammar).
   */
  riskModel?: RiskScorer | null;
  /**
   * Each turn's config variant (tenant, experiment and style overrides, kept live in
   * memory). Default: the base config for everyone.
   */
  configSource?: ConfigSource;
  logger?: Logger;
  observer?: TurnObserver;
  /**
   * Person-level flags shared by every instance. With them, the safety state follows the
   * person: a new session (another DM thread, a new Slack thread) of someone in the safety
   * state starts in it, until the release rule is met in any session.
   */
  marks?: Marks;
  /**
   * Erases what else is kept about a person outside the store when they confirm `forget`
   * (with Redis: their parked dead letters). Failures are logged, not fatal: the store's
   * erasure has happened.
   */
  eraseElsewhere?: ((userKey: string) => Promise<unknown>) | undefined;
  /**
   * Safety alerts: where each tenant's go (null: nowhere) and the queue that delivers them.
   * Unset: no alerts, and the person is never told that someone was.
   */
  alerts?: EngineAlerts | undefined;
  /** Check-ins the person asked for (`settings checkins 18:30`). Unset: not offered here. */
  checkins?: CheckinSchedule | undefined;
  options?: EngineOptions;
}

/** What a step asks the engine to raise (engine/alerting.ts). `replyIfOpen`: the reply when the person's earlier request is still open. */
export interface AlertRequest {
  kind: AlertKind;
  episode: string;
  replyIfOpen?: string | undefined;
}

export interface EngineAlerts {
  queue: Pick<AlertQueue, 'raise'>;
  target(tenant: string | undefined): AlertTarget | null;
  /** Told after each raise (metrics; waking this process's alert worker). */
  onRaised?: ((outcome: RaiseOutcome) => void) | undefined;
}


/** What one step of a turn decided; committed by `handleTurn`. */
export interface Step {
  kind: TurnKind;
  reply: string;
  state: SessionState;
  /** Record the person's message in history (false for oversized ones). */
  keepUserText: boolean;
  action?: string | undefined;
  interrupt?: string | undefined;
  resetHistory?: boolean;
  /** Erase every session of this user instead of committing. */
  erase?: boolean;
  /** A safety alert to raise before the reply is posted (alerting.ts). */
  alert?: AlertRequest | undefined;
  /** The person's preferences after this turn, when it changed them (written with the commit). */
  prefs?: Prefs | undefined;
  /** A change to the person's check-in schedule, made before the reply is posted (its reply says it is done). */
  schedule?: { kind: 'set'; time: string; timeZone: string } | { kind: 'clear' } | undefined;
}
