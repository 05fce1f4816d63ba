/**
 * The one message a turn shows the person. Whatever a turn has posted ("One moment…",
 * the reply being written, the reply) is recorded with the turn by its platform handle
 * as soon as it exists, so a worker that takes the turn over (its first worker died, or
 * handed it back at shutdown, or the turn is being redone) goes on in that message
 * instead of posting a new one: one visible message per turn through any number of crashes.
 */

export interface TurnMessage {
  /** The platform's handle: a Slack `ts`, a Discord message id. */
  id: string;
  /**
   * What it shows: the placeholder, part of the reply being written, or a whole reply
   * (posted; the turn may not be recorded yet, and if it is redone, the new reply replaces it).
   */
  shows: 'placeholder' | 'preview' | 'reply';
}

/**
 * Where a queue keeps each session's turn message, keyed by the sequence number of the
 * turn's first message (`head`), until the turn's messages leave the inbox.
 */
export interface TurnMessages {
  /** The message of the turn whose first message is `head`, if one was recorded. */
  get(sessionId: string, head: number): Promise<TurnMessage | undefined>;
  set(sessionId: string, head: number, message: TurnMessage): Promise<void>;
}

/** In process (the memory queue): kept until the queue drops the session's head. */
export class MemoryTurnMessages implements TurnMessages {
  private readonly bySession = new Map<string, { head: number; message: TurnMessage }>();

  async get(sessionId: string, head: number): Promise<TurnMessage | undefined> {
    const e = this.bySession.get(sessionId);
    return e && e.head === head ? e.message : undefined;
  }

  async set(sessionId: string, head: number, message: TurnMessage): Promise<void> {
    this.bySession.set(sessionId, { head, message });
  }

  /** The turn's messages left the inbox: its message is finished. */
  drop(sessionId: string): void {
    this.bySession.delete(sessionId);
  }
}

/** `<head>|<shows>|<id>`, as the Redis queue stores it (plain: handles, no text). */
export function encodeTurnMessage(head: number, m: TurnMessage): string {
  return `${head}|${m.shows}|${m.id}`;
}

export function decodeTurnMessage(raw: string | null, head: number): TurnMessage | undefined {
  const match = raw ? /^(\d+)\|(placeholder|preview|reply)\|(.+)$/.exec(raw) : null;
  if (!match || Number(match[1]) !== head) return undefined;
  return { shows: match[2] as TurnMessage['shows'], id: match[3]! };
}
