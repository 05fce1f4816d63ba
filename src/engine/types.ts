/** The engine's public input, output and wiring types, and the record one step of a turn produces. */
import type { EngineConfig } from '../config/load.js';
import type { Retriever } from '../rag/retriever.js';
import type { Responder } from '../responder/responder.js';
import type { Marks } from '../session/marks.js';
import type { SessionStore } from '../session/store.js';
import type { Logger } from '../util/logger.js';
import type { TurnKind, TurnObserver } from './observer.js';
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
}

export interface TurnResult {
  kind: TurnKind | 'ignored';
  /** What to send back; null when nothing should be sent. */
  reply: string | null;
  sessionId: string;
  substate?: string | undefined;
  action?: string | undefined;
}

export interface EngineOptions {
  /** Longest message processed, in characters. Default 4,000. */
  maxMessageChars?: number;
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
  logger?: Logger;
  observer?: TurnObserver;
  /**
   * Person-level flags shared by every instance. With them, the safety state follows the
   * person: a new session (another DM thread, a new Slack thread) of someone in the safety
   * state starts in it, until the release rule is met in any session.
   */
  marks?: Marks;
  options?: EngineOptions;
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
}
