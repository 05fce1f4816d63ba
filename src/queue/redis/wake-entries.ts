/** Reading what the queue's stream entries and inboxes hold, for the worker. */
import type { Queued } from './redis-turn-queue.js';

/** The session id a wake-up entry names (its `s` field), or undefined for a malformed entry. */
export function fieldOf(f: string[]): string | undefined {
  const i = f.indexOf('s');
  return i >= 0 ? f[i + 1] : undefined;
}

/** The sequence numbers of the unreadable messages at the head of the inbox (none: empty). */
export function leadingUnreadable(inbox: Queued[]): number[] {
  const seqs: number[] = [];
  for (const m of inbox) {
    if (m.text !== null) break;
    seqs.push(m.seq);
  }
  return seqs;
}
