/**
 * One message edited in place while a reply is being written (streaming previews).
 * Platforms limit edits (Slack's chat.update ~50/min per workspace, Discord 5 edits
 * per 5 s per channel), and an LLM produces text far faster, so edits are throttled
 * and coalesced: only the latest text is sent when the throttle window opens, and
 * never two requests at once for one message (they could land out of order).
 */

/** How one platform posts and edits the preview message. */
export interface LiveMessageOps {
  /** A message already up for this turn (a "One moment…" placeholder) to edit instead of posting; asked once. */
  adopt?: () => Promise<string | undefined>;
  /** Posts the first text as a new message; resolves with its id. */
  post(text: string): Promise<string>;
  /** Replaces the text of message `id`. */
  edit(id: string, text: string): Promise<void>;
  /** Message `id` shows preview text now (told once, after the first post or edit that landed). */
  shown?: (id: string) => void;
  /**
   * A post or edit failed: its text is dropped (the next preview or the final reply covers it).
   * Returns how long to hold off further edits, in ms (a rate limit's Retry-After), else 0.
   */
  failed(err: unknown): number;
}

/** What the previews left behind for the final reply. */
export interface LiveMessageState {
  /** The message previews went into (posted or adopted); undefined when none exists. */
  id: string | undefined;
  /** It shows preview text the person may have read (not only a placeholder). */
  shown: boolean;
}

export class LiveMessage {
  private id: string | undefined;
  private shown = false;
  private adopted = false;
  /** The newest text not sent yet (older ones are dropped: coalescing). */
  private pending: string | undefined;
  private lastSent: string | undefined;
  private inFlight: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Earliest time (epoch ms) the next request may start. */
  private nextAt = 0;
  private finished = false;

  /** `intervalMs`: least time between the starts of two requests. */
  constructor(
    private readonly ops: LiveMessageOps,
    private readonly intervalMs: number,
  ) {}

  /** Shows `text` (the whole reply so far) as soon as the throttle allows. Never throws. */
  show(text: string): void {
    if (this.finished || text === this.lastSent) return;
    this.pending = text;
    this.pump();
  }

  /**
   * Stops previewing: drops the text not sent yet and waits for the request in flight, so
   * the final reply's edit cannot be overtaken by a late preview. Idempotent.
   */
  async finish(): Promise<LiveMessageState> {
    this.finished = true;
    this.pending = undefined;
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.inFlight) await this.inFlight;
    return { id: this.id, shown: this.shown };
  }

  private pump(): void {
    if (this.finished || this.inFlight || this.timer || this.pending === undefined) return;
    const wait = this.nextAt - Date.now();
    if (wait > 0) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.pump();
      }, wait);
      return;
    }
    const text = this.pending;
    this.pending = undefined;
    this.nextAt = Date.now() + this.intervalMs;
    this.inFlight = this.send(text).finally(() => {
      this.inFlight = undefined;
      this.pump();
    });
  }

  private async send(text: string): Promise<void> {
    try {
      if (!this.adopted && this.ops.adopt) {
        this.adopted = true;
        this.id = await this.ops.adopt();
      }
      if (this.id === undefined) this.id = await this.ops.post(text);
      else await this.ops.edit(this.id, text);
      if (!this.shown) this.ops.shown?.(this.id);
      this.shown = true;
      this.lastSent = text;
    } catch (err) {
      this.nextAt = Math.max(this.nextAt, Date.now() + Math.max(0, this.ops.failed(err)));
    }
  }
}
