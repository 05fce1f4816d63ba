/**
 * Reading sealed values back during erasure: what can be opened and parsed, and what is
 * left as it is when it cannot (a changed key). Pure functions over the store's cipher.
 */
import type { TextCipher } from '../../redis/cipher.js';
import type { HistoryEntry } from '../store.js';

/** A stored history entry, or undefined when it cannot be decrypted or parsed (it then has no owner, so it is erased). */
export function openEntry(cipher: TextCipher, raw: string): HistoryEntry | undefined {
  try {
    return JSON.parse(cipher.open(raw)) as HistoryEntry;
  } catch {
    return undefined;
  }
}

/** The state a surviving shared session gets: the caller's, or the stored one scrubbed; undefined to keep it as it is. */
export function stateAfterErase(cipher: TextCipher, heldState: unknown, sealed: string | null, scrub?: (state: unknown) => unknown): unknown {
  if (heldState !== undefined) return scrub ? scrub(heldState) : heldState;
  if (!scrub || sealed === null) return undefined;
  try {
    return scrub(JSON.parse(cipher.open(sealed)) as unknown);
  } catch {
    return undefined; // unreadable (a changed key): left as it is
  }
}
