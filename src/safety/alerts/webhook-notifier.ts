/**
 * The webhook destination: each alert is POSTed as JSON to the target's webhook URL, and again
 * (an `acknowledged` event) when a responder takes it. With a secret, every body is signed
 * (HMAC-SHA256 over "<timestamp>.<body>", in `x-trt-signature`), so a receiver can tell our
 * requests from forged ones; the timestamp is inside the signed string so a captured request
 * cannot be replayed later: receivers reject stale timestamps (verifyWebhookSignature does).
 *
 * Anything but a 2xx (also a redirect, a timeout, a refused connection) throws, naming the
 * status or the cause but never the body or the URL (a URL can carry a token): the worker
 * retries with backoff. Deliveries are at least once: a receiver that answered too late is
 * sent the same event again, so receivers dedupe on (event, episode, reminder): a reminder's
 * number tells the reminders of one alert apart.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { alertFacts, type Acknowledgement, type AlertNotifier, type AlertRecord, type Reminder, type SentRef } from './alert.js';

export interface WebhookNotifierOptions {
  /** Signs every body (`x-trt-signature`); unsigned without one. */
  secret?: string | undefined;
  /** Give up on a request after this long (default 10 s): a hung receiver must not hold the worker. */
  timeoutMs?: number;
  /** The HTTP client (tests); default the global fetch. */
  fetch?: typeof fetch;
  /** Unix seconds now (tests); default the clock. */
  nowSeconds?: () => number;
}

/** What a receiver gets when an alert is raised. `text` only when the tenant includes text. */
export interface WebhookAlertBody {
  event: 'safety_alert';
  episode: string;
  kind: string;
  platform: string;
  tenant: string | null;
  session: string;
  person: string;
  at: string;
  link: string | null;
  text?: string;
}

/** What a receiver gets when someone takes the alert. */
export interface WebhookAckBody {
  event: 'safety_alert_acknowledged';
  episode: string;
  by: string;
  at: string;
}

/** Nobody has taken the alert yet: the `n`th reminder of at most `of`, `minutes` after it was raised. */
export interface WebhookReminderBody {
  event: 'safety_alert_reminder';
  episode: string;
  kind: AlertRecord['alert']['kind'];
  reminder: number;
  of: number;
  minutes: number;
  link: string | null;
}

export const SIGNATURE_HEADER = 'x-trt-signature';
export const TIMESTAMP_HEADER = 'x-trt-timestamp';
/** How old a signed request may be before verifyWebhookSignature refuses it (default; clocks drift a little). */
export const DEFAULT_TOLERANCE_SECONDS = 300;

/** `sha256=<hex>` for a body sent at `timestamp` (unix seconds, as the header carries it). */
export function webhookSignature(secret: string, timestamp: string, rawBody: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${rawBody}`, 'utf8').digest('hex')}`;
}

/**
 * For receivers (and tests): true when `header` is the signature of `rawBody` (the bytes as
 * received, before any JSON parsing) at `timestamp`, and the timestamp is no further than
 * `toleranceSeconds` from now. Constant-time comparison.
 */
export function verifyWebhookSignature(
  secret: string,
  timestamp: string | undefined,
  rawBody: string,
  header: string | undefined,
  opts: { toleranceSeconds?: number; nowSeconds?: number } = {},
): boolean {
  if (!timestamp || !header || !/^\d{1,12}$/.test(timestamp)) return false;
  const now = opts.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - Number(timestamp)) > (opts.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS)) return false;
  const expected = Buffer.from(webhookSignature(secret, timestamp, rawBody), 'utf8');
  const given = Buffer.from(header.trim(), 'utf8');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The alert's body: ids, kind and times; the person's words only when the tenant set include_text. */
export function alertBody(r: AlertRecord): WebhookAlertBody {
  const a = r.alert;
  return {
    event: 'safety_alert',
    ...alertFacts(r),
    // Both must agree: text on a record whose target does not include it is not sent.
    ...(a.text !== undefined && r.target.includeText ? { text: a.text } : {}),
  };
}

export class WebhookNotifier implements AlertNotifier {
  readonly destination = 'webhook' as const;
  private readonly secret: string | undefined;
  private readonly timeoutMs: number;
  private readonly fetch: typeof fetch;
  private readonly nowSeconds: () => number;

  constructor(opts: WebhookNotifierOptions = {}) {
    this.secret = opts.secret || undefined;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.fetch = opts.fetch ?? globalThis.fetch;
    this.nowSeconds = opts.nowSeconds ?? (() => Math.floor(Date.now() / 1000));
  }

  async send(record: AlertRecord): Promise<SentRef | undefined> {
    await this.post(record, alertBody(record));
    return undefined; // nothing to edit later: the acknowledgement is a second event
  }

  async acknowledged(record: AlertRecord, _sent: SentRef | undefined, ack: Acknowledgement): Promise<void> {
    const body: WebhookAckBody = { event: 'safety_alert_acknowledged', episode: record.alert.episode, by: ack.by, at: ack.at };
    await this.post(record, body);
  }

  async remind(record: AlertRecord, _sent: SentRef | undefined, r: Reminder): Promise<void> {
    const body: WebhookReminderBody = { event: 'safety_alert_reminder', episode: record.alert.episode, kind: record.alert.kind, reminder: r.n, of: r.of, minutes: r.minutes, link: record.link ?? null };
    await this.post(record, body);
  }

  private async post(record: AlertRecord, body: WebhookAlertBody | WebhookAckBody | WebhookReminderBody): Promise<void> {
    const url = record.target.webhookUrl;
    if (!url) throw new Error(`webhook: episode ${record.alert.episode} has no webhook URL in its target`);
    const raw = JSON.stringify(body);
    const timestamp = String(this.nowSeconds());
    const headers: Record<string, string> = { 'content-type': 'application/json', [TIMESTAMP_HEADER]: timestamp, 'user-agent': 'trt-safety-alerts' };
    if (this.secret) headers[SIGNATURE_HEADER] = webhookSignature(this.secret, timestamp, raw);
    let res: Response;
    try {
      // A redirect is not followed: it would turn the POST into a GET, or send the body elsewhere.
      res = await this.fetch(url, { method: 'POST', headers, body: raw, redirect: 'manual', signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (err) {
      const e = err as { name?: string; cause?: { code?: string } };
      if (e.name === 'TimeoutError' || e.name === 'AbortError') throw new Error(`webhook: no answer within ${this.timeoutMs} ms`, { cause: err });
      throw new Error(`webhook: request failed (${e.cause?.code ?? e.name ?? 'network error'})`, { cause: err });
    }
    // The body is never read into an error or a log (a receiver may echo what it was sent); it is drained to free the connection.
    await res.body?.cancel().catch(() => undefined);
    if (res.status < 200 || res.status > 299) throw new Error(`webhook: answered ${res.status}${res.status >= 300 && res.status < 400 ? ' (redirects are not followed)' : ''}`);
  }
}
