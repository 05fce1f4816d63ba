/**
 * Sessions several people take part in (a Slack channel thread, a Discord guild
 * thread): whose history entry is whose, for erasure and export. Every store
 * applies the same rules through these functions.
 *
 * - An entry's owner is its `by` (a user entry) or `to` (a bot reply: a turn is one
 *   person's, so its reply answered them).
 * - An entry with neither was written before owners were recorded (or is a system
 *   note). In a session no one else took part in, it is the person's like everything
 *   else there. In a shared session it cannot be told apart, so it counts as possibly
 *   anyone's: any participant's erasure removes it (it could be theirs; keeping someone's
 *   words after they asked is the worse mistake), and no one's export includes it (it
 *   could be someone else's). Not `meta.userId`: the engine rewrites that on every
 *   turn, so it names the last speaker, not the session's creator.
 * - Participants: the store's participant set, the meta user and every owner seen
 *   (older sessions have no set). A session is shared for someone when a participant
 *   other than them remains.
 */
import { entryOwner, userKey, type HistoryEntry, type SessionMeta } from './store.js';

/** Everyone but `asker` who took part in the session, sorted. */
export function otherParticipants(asker: string, meta: SessionMeta, stored: Iterable<string>, entries: ReadonlyArray<HistoryEntry | undefined>): string[] {
  const all = new Set(stored);
  if (meta.userId) all.add(userKey(meta.platform, meta.userId));
  for (const e of entries) {
    const owner = e && entryOwner(e);
    if (owner) all.add(owner);
  }
  all.delete(asker);
  return [...all].sort();
}

/** Whether erasing `asker` keeps this entry (one someone else owns; an unreadable entry has no owner). */
export function keptAfterErase(asker: string, entry: HistoryEntry | undefined): boolean {
  const owner = entry && entryOwner(entry);
  return owner !== undefined && owner !== asker;
}

/** The entries of a shared session that an export for `asker` gives: those they own. */
export function ownPart(asker: string, entries: readonly HistoryEntry[]): HistoryEntry[] {
  return entries.filter((e) => entryOwner(e) === asker);
}

/** The user id in a `platform:userId` key. */
export function userIdOf(key: string, platform: string): string {
  return key.startsWith(`${platform}:`) ? key.slice(platform.length + 1) : key;
}

/** The meta user after `asker` left a shared session: unchanged unless it was them. */
export function metaUserAfter(asker: string, meta: SessionMeta, others: readonly string[]): string {
  return userKey(meta.platform, meta.userId) === asker && others[0] ? userIdOf(others[0], meta.platform) : meta.userId;
}
