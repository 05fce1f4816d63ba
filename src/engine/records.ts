/** What a turn writes: its state, the history entries and the session's metadata. */
import { userKey, type HistoryEntry, type SessionCommit, type SessionMeta } from '../session/store.js';
import { SESSION_SCHEMA_VERSION, type SessionState } from './session-state.js';
import type { TurnTexts } from './burst.js';
import type { Step, TurnInput } from './types.js';

/** One user entry per message (a burst keeps each message, in order; `late` marks those answered out of order), then the reply. */
export function historyEntries(texts: string[], reply: string, step: Step, now: Date, late: boolean[] = []): HistoryEntry[] {
  const at = now.toISOString();
  const substate = step.state.nav.substate;
  const out: HistoryEntry[] = [];
  if (step.keepUserText) texts.forEach((text, i) => out.push({ role: 'user', text, at, substate, ...(late[i] ? { late: true } : {}) }));
  out.push({ role: 'bot', text: reply, at, substate, ...(step.action ? { action: step.action } : {}) });
  return out;
}

export function sessionMeta(input: TurnInput, prev: SessionMeta | undefined, state: SessionState, now: Date): SessionMeta {
  const at = now.toISOString();
  return {
    platform: input.platform,
    userId: input.userId,
    tenant: input.tenant ?? prev?.tenant,
    createdAt: prev?.createdAt ?? at,
    lastActiveAt: at,
    turnCount: state.turns,
    schemaVersion: SESSION_SCHEMA_VERSION,
  };
}

/** The commit of an answered turn: `turn` holds the messages it answered, `reply` what was said. */
export function turnCommit(input: TurnInput, prev: SessionMeta | undefined, turn: Pick<TurnTexts, 'texts' | 'late'>, reply: string, step: Step, now: Date): SessionCommit<SessionState> {
  const who = userKey(input.platform, input.userId);
  return {
    state: step.state,
    meta: sessionMeta(input, prev, step.state, now),
    // Each entry says whose it is (a turn is one person's), so erasure and export in a shared thread can tell.
    append: historyEntries(turn.texts, reply, step, now, turn.late).map((e) => (e.role === 'user' ? { ...e, by: who } : { ...e, to: who })),
    resetHistory: step.resetHistory ?? false,
    ...(step.prefs ? { prefs: { userKey: who, value: step.prefs } } : {}),
  };
}
