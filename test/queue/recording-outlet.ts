/** An outlet that records replies (and streamed previews) per session (the platform side of a queue test), optionally holding deliveries. */
import type { Outlet, OutletTurn } from '../../src/queue/turn-queue.js';
import { runBatch, silentLogger, type EngineSetup } from '../../src/index.js';

/** Not a sleep: a delivery wakes `waitForCount` at once; this only bounds how late its deadline is noticed. */
const DEADLINE_CHECK_MS = 50;

export class RecordingOutlet implements Outlet {
  readonly replies: Array<{ sessionId: string; text: string; at: number }> = [];
  /** Streamed previews received, when built with `{ previews: true }` (otherwise the turn has no `preview`). */
  readonly previews: Array<{ sessionId: string; text: string }> = [];
  /** While set, deliveries wait for it (a slow platform holding a turn open). */
  gate: Promise<void> | undefined;
  private waiters: Array<() => void> = [];
  begins = 0;
  /** Turns closed (every delivery of a turn comes before its close). */
  closed = 0;

  constructor(private readonly opts: { previews?: boolean } = {}) {}

  begin(_replyTo: Record<string, unknown>, sessionId: string): OutletTurn {
    this.begins++;
    return {
      ...(this.opts.previews ? { preview: (text: string) => void this.previews.push({ sessionId, text }) } : {}),
      deliver: async (text) => {
        if (this.gate) await this.gate;
        this.replies.push({ sessionId, text, at: Date.now() });
        for (const w of this.waiters.splice(0)) w();
        return true;
      },
      close: async () => void this.closed++,
    };
  }

  for(sessionId: string): string[] {
    return this.replies.filter((r) => r.sessionId === sessionId).map((r) => r.text);
  }

  /** Waits until `n` replies in all have been delivered (woken by each delivery; the deadline is checked every DEADLINE_CHECK_MS). */
  async waitForCount(n: number, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.replies.length < n) {
      if (Date.now() > deadline) throw new Error(`expected ${n} replies, got ${this.replies.length}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, DEADLINE_CHECK_MS);
      });
    }
  }
}

/** Sends `texts` from one person through the queue runner, one message per turn, as a worker would. */
export async function throughRunner(setup: EngineSetup, userId: string, tenant: string | undefined, texts: string[]): Promise<RecordingOutlet> {
  const outlet = new RecordingOutlet();
  const sessionId = `slack:${tenant ?? 'none'}:D${userId}`;
  let seq = 0;
  for (const text of texts) {
    const m = { id: `${userId}-${++seq}`, sessionId, userId, platform: 'slack', tenant, text, replyTo: {}, receivedAt: Date.now(), seq: Date.now() * 1000 + seq };
    await runBatch({ engine: setup.engine, outlets: { slack: outlet }, logger: silentLogger, limits: setup.limits, limitedReply: setup.limitedReply }, sessionId, [m]);
  }
  return outlet;
}
