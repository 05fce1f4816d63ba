/**
 * The durable turn queue: what sits between an adapter receiving a message and
 * the engine's turn. Adapters `enqueue` (and may acknowledge the platform as
 * soon as that resolves); workers, on any instance, run the turns and post the
 * replies through each platform's `Outlet`. The engine stays platform-free:
 * `replyTo` is opaque here, meaningful only to the platform's outlet.
 */
import type { TurnMessage } from './turn-message.js';

export interface QueuedMessage {
  /** The platform's event or message id: a message is queued once however often it is delivered. */
  id: string;
  sessionId: string;
  userId: string;
  platform: string;
  tenant?: string | undefined;
  text: string;
  /** Where the reply goes, in the platform's terms (channel, thread...). Plain JSON. */
  replyTo: Record<string, unknown>;
  /** Epoch ms when the adapter received it (receive-to-reply latency). */
  receivedAt: number;
  /**
   * Where the message stands in its conversation by the platform's clock (Slack `ts`, Discord
   * snowflake), as 20 digits so that strings compare as numbers (adapters/common/platform-order.ts). The inbox
   * is kept in this order; without it, a message goes in arrival order.
   */
  order?: string | undefined;
  /** Epoch ms the platform stamped the message with: its turn waits out the order window from it. */
  sentAt?: number | undefined;
  /** Where the platform says the person is (ISO 3166-1 alpha-2), when it says: their crisis lines. */
  platformCountry?: string | undefined;
  /** The time zone the platform says the person is in (IANA), when it says. */
  platformTimeZone?: string | undefined;
  /** A direct-message conversation (only the person and the bot). */
  direct?: boolean | undefined;
}

/** A queued message with its per-session sequence number (arrival order). */
export interface InboxMessage extends QueuedMessage {
  seq: number;
}

export type EnqueueResult = 'queued' | 'duplicate';

/**
 * The message is certainly not stored (and never will be): telling the person to send it
 * again is true. Queues throw nothing else for a message they could not store, except
 * `QueueOutcomeUnknownError`.
 */
export class NotQueuedError extends Error {
  readonly code = 'NOT_QUEUED';
  constructor(options?: { cause?: unknown }) {
    super('the message was not stored', options);
  }
}

/**
 * Whether the message was stored could not be found out (the queue's store did not answer
 * for the whole resolution window): it may still be answered. Neither "it is on its way" nor
 * "send it again" is known to be true.
 */
export class QueueOutcomeUnknownError extends Error {
  readonly code = 'QUEUE_OUTCOME_UNKNOWN';
  constructor(options?: { cause?: unknown }) {
    super('whether the message was stored is unknown', options);
  }
}

export interface TurnQueue {
  readonly name: string;
  /** Stores the message durably (or, in memory, for this process); 'duplicate' when its id was seen. */
  enqueue(message: QueuedMessage): Promise<EnqueueResult>;
}

/** What a turn's outlet is told about the turn's one visible message (see turn-message.ts). */
export interface OutletTurnOptions {
  /**
   * What an earlier try at this turn left on screen (its worker died, handed it back, or the
   * turn is being redone): the turn goes on in that message instead of posting a new one.
   */
  earlier?: TurnMessage | undefined;
  /**
   * Told each time the turn's message is posted or changes what it shows; the queue records it.
   * The outlet awaits it for a reply (so a reply is never taken for a placeholder to delete),
   * not for a placeholder or a preview. Never rejects.
   */
  record?: ((message: TurnMessage) => Promise<void>) | undefined;
}

/** One turn's view of a platform: progress while it runs, then the reply. */
export interface OutletTurn {
  /**
   * Posts the reply (split, formatted, retried as the platform needs). Should not throw;
   * false when it could not be posted now (a redelivery may follow): history notes it.
   */
  deliver(reply: string): Promise<boolean>;
  /**
   * Optional streaming: the reply so far (the whole text each time, growing). The outlet shows
   * it by editing one message in place, throttled within the platform's rate limits, and never
   * throws. `deliver` then replaces it with the final text (which may differ entirely) instead
   * of posting a second message; a failed preview must not make `deliver` report false when the
   * final text was posted.
   */
  preview?(partialReply: string): void;
  /**
   * Ends progress indicators (typing). A placeholder or preview no reply replaced is deleted,
   * unless `keep`: the turn will be redone and its next try goes on in that message (when it
   * was recorded). A message an earlier try left is never deleted here.
   */
  close(options?: { keep?: boolean }): Promise<void>;
}

export interface Outlet {
  /** Called as a turn for `replyTo` starts: may show "typing" or post a placeholder. */
  begin(replyTo: Record<string, unknown>, sessionId: string, options?: OutletTurnOptions): OutletTurn;
}

/** Outlets by platform name (`slack`, `discord`). */
export type Outlets = Record<string, Outlet>;
