/**
 * What the engine keeps per session: a plain, serialisable object with a
 * schema version, so any store can hold it and a newer engine can migrate it.
 */
import type { NavState } from '../navigator/navigator.js';
import { INITIAL_SAFETY, type SafetyState } from '../safety/protocol.js';

/** Bump when the shape changes, and teach `migrateState` the old one. */
export const SESSION_SCHEMA_VERSION = 1;

export interface SessionState {
  schemaVersion: number;
  /** Version of simplified_navigation.json the session runs under. */
  configVersion: string;
  nav: NavState;
  /** Slot values gathered so far (health data: encrypted at rest by stores that can). */
  slots: Record<string, string>;
  /** Every completion criterion established so far, across substates (for `status`). */
  facts: string[];
  safety: SafetyState;
  /** The disclosure has been shown in this session. */
  disclosed: boolean;
  /** Fingerprints of the last reply lines (at most RECENT_LINES), so the offline responder does not repeat itself. */
  recentLines?: string[] | undefined;
  /** The last reply line, as states stored before `recentLines` hold it (read, never written). */
  lastLine?: string | undefined;
  /** A command waiting for confirmation, and who asked (only they can confirm it). */
  pending?: { command: 'forget'; userId: string } | undefined;
  /** Turns processed (commands included). */
  turns: number;
  /** Highest durable-queue sequence number answered in this session (see TurnInput.parts). */
  queueSeq?: number | undefined;
  /**
   * The queue sequence numbers of the last turn's messages (answered, or skipped as answered):
   * a redelivery of that turn is recognised by them. Sequence numbers follow arrival and the
   * inbox follows the platform's order, so "at or below the highest" would drop a late message.
   */
  answeredSeqs?: number[] | undefined;
  /** The latest platform order answered (QueuedMessage.order): a message before it is late. */
  lastOrder?: string | undefined;
}

export function newSessionState(nav: NavState, configVersion: string): SessionState {
  return {
    schemaVersion: SESSION_SCHEMA_VERSION,
    configVersion,
    nav,
    slots: {},
    facts: [],
    safety: { ...INITIAL_SAFETY },
    disclosed: false,
    turns: 0,
  };
}

/** Accepts a stored state of any known version; returns null when it cannot be used. */
export function migrateState(raw: unknown): SessionState | null {
  if (!raw || typeof raw !== 'object') return null;
  const s = raw as Partial<SessionState>;
  if (s.schemaVersion !== SESSION_SCHEMA_VERSION || !s.nav || typeof s.nav.substate !== 'string') return null;
  return s as SessionState;
}

/**
 * A shared session's state after one participant erased their part: the thread goes on for the
 * others, but slot values (people's own words, word for word) and the last reply lines (which may
 * quote them) are dropped, since nothing records whose they were. The navigator asks again for
 * what it still needs. Criteria reached (`facts`) are ids, not words: kept.
 */
export function scrubSharedState(raw: unknown): unknown {
  const s = migrateState(raw);
  if (!s) return raw;
  return { ...s, slots: {}, lastLine: undefined, recentLines: undefined, pending: undefined };
}
