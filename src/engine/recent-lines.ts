/**
 * The session's last few reply lines, so no line comes back verbatim while the config holds
 * another for that action (RECENT_LINES of them; `lastLine` is the older, one-line form).
 */
import type { SessionState } from './session-state.js';

export const RECENT_LINES = 8;

/** The recent lines, oldest first (a state stored before the list existed has its last line). */
export function recentLines(state: Pick<SessionState, 'recentLines' | 'lastLine'>): string[] {
  return state.recentLines ?? (state.lastLine ? [state.lastLine] : []);
}

/** The state fields after `line` was said. */
export function rememberLine(state: Pick<SessionState, 'recentLines' | 'lastLine'>, line: string): Pick<SessionState, 'recentLines' | 'lastLine'> {
  return { recentLines: [...recentLines(state), line].slice(-RECENT_LINES), lastLine: undefined };
}
