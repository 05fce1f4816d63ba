/**
 * Marks: small expiring flags shared by every instance (dedupe of platform
 * retries, "the bot is in this thread"). The Redis implementation is SET NX EX
 * on one key, so every instance sees the same marks.
 */
export interface Marks {
  /** Sets the mark if it is not set; true when this call set it (the first to see a message wins). */
  setIfAbsent(key: string, ttlSeconds: number): Promise<boolean>;
  exists(key: string): Promise<boolean>;
  /** Removes a mark (no error when absent). */
  clear(key: string): Promise<void>;
}

/** In-process marks (single instance, or tests). */
export class MemoryMarks implements Marks {
  private readonly marks = new Map<string, number>();
  constructor(private readonly now: () => number = Date.now) {}

  // Check and set happen without an await in between: two deliveries of one message
  // arriving together must not both see "absent".
  async setIfAbsent(key: string, ttlSeconds: number): Promise<boolean> {
    if (this.live(key)) return false;
    this.marks.set(key, this.now() + ttlSeconds * 1000);
    if (this.marks.size % 1000 === 0) for (const [k, until] of this.marks) if (until <= this.now()) this.marks.delete(k);
    return true;
  }

  async exists(key: string): Promise<boolean> {
    return this.live(key);
  }

  async clear(key: string): Promise<void> {
    this.marks.delete(key);
  }

  private live(key: string): boolean {
    const until = this.marks.get(key);
    if (until === undefined) return false;
    if (until > this.now()) return true;
    this.marks.delete(key);
    return false;
  }
}
