/** Episode ids: the same for every try at one turn (a redo, another instance), so an episode alerts once. */
import { createHash } from 'node:crypto';

/**
 * `ep_` and 16 hex digits from the session and the turn's seed: the platform id of the turn's
 * first queued message (stable across redeliveries and takeovers), or, for a turn nothing will
 * redo (the terminal), a random one.
 */
export function episodeId(sessionId: string, seed: string): string {
  return `ep_${createHash('sha256').update(`${sessionId}\n${seed}`).digest('hex').slice(0, 16)}`;
}
