/** Per-method delays for the fake platforms, and how many calls of each were answered at once. */
export class SlowMethods {
  /** Method -> ms to wait before answering (a slow platform). */
  readonly delays = new Map<string, number>();
  /** Method -> most calls of it that were being answered at once. */
  readonly maxInFlight = new Map<string, number>();
  private readonly inFlight = new Map<string, number>();

  /** Waits the method's delay, if any, counting it as in flight meanwhile. */
  async wait(method: string): Promise<void> {
    const delay = this.delays.get(method);
    if (!delay) return;
    const now = (this.inFlight.get(method) ?? 0) + 1;
    this.inFlight.set(method, now);
    this.maxInFlight.set(method, Math.max(now, this.maxInFlight.get(method) ?? 0));
    await new Promise((r) => setTimeout(r, delay));
    this.inFlight.set(method, (this.inFlight.get(method) ?? 1) - 1);
  }
}
