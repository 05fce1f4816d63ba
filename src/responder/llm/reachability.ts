/**
 * Whether the LLM server answers, asked once at start-up (a `models` call with a short
 * timeout) so the banner tells the truth: a wrong OPENAI_BASE_URL used to show "llm ...
 * streamed" and then fail every turn. While the server is down, turns do not wait for it:
 * the offline line answers at once, and a probe in the background (at most one every
 * `reprobeMs`) finds out when it answers again.
 */
import OpenAI from 'openai';

export type Reachability =
  | { state: 'ok' }
  /** No answer at all: connection refused, DNS, timeout. */
  | { state: 'unreachable'; detail: string }
  /** It answered, refusing the key (401/403): every reply would fail the same way. */
  | { state: 'rejected'; status: number };

export interface ReachabilityOptions {
  /** Longest the probe waits. */
  timeoutMs: number;
  /** While down, the least time between two probes. */
  reprobeMs: number;
  now?: () => number;
}

export class LlmReachability {
  private current: Reachability = { state: 'ok' }; // until a probe says otherwise: a bot that never probes tries every turn, as before
  private probedAt = -Infinity;
  private probing: Promise<Reachability> | undefined;
  private readonly now: () => number;

  constructor(
    private readonly client: OpenAI,
    private readonly o: ReachabilityOptions,
  ) {
    this.now = o.now ?? Date.now;
  }

  get state(): Reachability {
    return this.current;
  }

  /** The server's base URL, for messages: never the key, nor a user and password written into the URL. */
  get url(): string {
    try {
      const u = new URL(this.client.baseURL);
      u.username = '';
      u.password = '';
      return u.toString().replace(/\/$/, '');
    } catch {
      return '(the configured URL)';
    }
  }

  /**
   * True when a turn should call the model. While down, false, and a background probe is
   * started when the last one is older than `reprobeMs`.
   */
  usable(): boolean {
    if (this.current.state === 'ok') return true;
    if (this.now() - this.probedAt >= this.o.reprobeMs) void this.probe();
    return false;
  }

  /** Asks the server once (concurrent callers share the call). Never throws. */
  probe(): Promise<Reachability> {
    this.probing ??= this.ask().then((r) => {
      this.current = r;
      this.probedAt = this.now();
      this.probing = undefined;
      return r;
    });
    return this.probing;
  }

  private async ask(): Promise<Reachability> {
    try {
      await this.client.models.list({ timeout: this.o.timeoutMs, maxRetries: 0 });
      return { state: 'ok' };
    } catch (err) {
      if (err instanceof OpenAI.APIConnectionError) return { state: 'unreachable', detail: err instanceof OpenAI.APIConnectionTimeoutError ? 'timeout' : 'connection' };
      if (err instanceof OpenAI.APIError && (err.status === 401 || err.status === 403)) return { state: 'rejected', status: err.status };
      // Any other answer (a server without a models route: 404, 405; a 5xx) means it is there.
      if (err instanceof OpenAI.APIError && err.status !== undefined) return { state: 'ok' };
      return { state: 'unreachable', detail: (err as Error)?.name ?? 'error' };
    }
  }
}

/** The banner's words for a server that is down; undefined when it answers. */
export function downNotice(r: Reachability, url: string): string | undefined {
  if (r.state === 'unreachable') return `llm at ${url} unreachable, replies come from the offline responder until it answers`;
  if (r.state === 'rejected') return `llm at ${url} refused the key (HTTP ${r.status}), replies come from the offline responder until it accepts it`;
  return undefined;
}
