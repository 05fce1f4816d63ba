/**
 * The session's last few reply lines, so no line comes back verbatim while the config holds
 * another for that action (RECENT_LINES of them). Kept as short fingerprints, not the text: the
 * state stays small (it is copied on every load and commit) and holds no quoted words.
 */
import type { SessionState } from './session-state.js';

export const RECENT_LINES = 8;

/** A line's fingerprint (FNV-1a, base 36): equal lines, equal prints. The same few lines are asked about every turn: remembered. */
export function linePrint(line: string): string {
  let print = prints.get(line);
  if (print === undefined) {
    if (prints.size >= PRINTS_MAX) prints.clear();
    print = fnv(line);
    prints.set(line, print);
  }
  return print;
}
const PRINTS_MAX = 4096;
const prints = new Map<string, string>();

function fnv(line: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < line.length; i++) {
    h ^= line.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return `${(h >>> 0).toString(36)}${line.length.toString(36)}`;
}

/** The recent lines' prints, oldest first (a state stored before the list existed has its last line). */
export function recentLines(state: Pick<SessionState, 'recentLines' | 'lastLine'>): string[] {
  return state.recentLines ?? (state.lastLine ? [linePrint(state.lastLine)] : []);
}

/** The state fields after `line` was said. */
export function rememberLine(state: Pick<SessionState, 'recentLines' | 'lastLine'>, line: string): Pick<SessionState, 'recentLines' | 'lastLine'> {
  return { recentLines: [...recentLines(state), linePrint(line)].slice(-RECENT_LINES), lastLine: undefined };
}
