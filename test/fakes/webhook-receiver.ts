/**
 * A local HTTP webhook receiver for tests (never product code): records every request (its
 * headers, the raw body, the parsed JSON, whether the signature verified with `secret`) and
 * answers from a scripted list of statuses, one per request (then 200), where `'hang'` never
 * answers (a receiver that holds the connection: the notifier's timeout must fire).
 */
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, verifyWebhookSignature } from '../../src/safety/alerts/webhook-notifier.js';
import { until } from '../wait.js';

export interface WebhookRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  raw: string;
  /** The body parsed as JSON; undefined when it was not JSON. */
  json: Record<string, unknown> | undefined;
  /** When it arrived (epoch ms). */
  at: number;
  /** The signature verified with the receiver's secret (false without a secret or a signature). */
  verified: boolean;
  /** What the receiver answered (`hang`: nothing). */
  status: number | 'hang';
}

export class WebhookReceiver {
  readonly requests: WebhookRequest[] = [];
  /** Answers, one shifted per request; 200 once empty. */
  statuses: Array<number | 'hang'>;
  /** The secret the receiver verifies signatures with. */
  secret: string | undefined;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly hung: ServerResponse[] = [];

  constructor(opts: { secret?: string; statuses?: Array<number | 'hang'> } = {}) {
    this.secret = opts.secret;
    this.statuses = [...(opts.statuses ?? [])];
  }

  /** Starts on a free local port; returns the URL to post to. */
  async start(path = '/hook'): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        let json: Record<string, unknown> | undefined;
        try {
          json = JSON.parse(raw) as Record<string, unknown>;
        } catch {
          json = undefined;
        }
        const header = (name: string) => (typeof req.headers[name] === 'string' ? (req.headers[name] as string) : undefined);
        const verified = this.secret !== undefined && verifyWebhookSignature(this.secret, header(TIMESTAMP_HEADER), raw, header(SIGNATURE_HEADER));
        const status = this.statuses.shift() ?? 200;
        this.requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, raw, json, verified, status, at: Date.now() });
        if (status === 'hang') {
          this.hung.push(res);
          return;
        }
        // An error body a notifier must not copy into its error message.
        res.writeHead(status, { 'content-type': 'text/plain' }).end(status >= 300 ? `receiver error, echoing: ${raw}` : 'ok');
      });
    });
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}${path}`;
  }

  /** Resolves once `count` requests have arrived (with a deadline). */
  async waitFor(count: number, timeoutMs = 10_000): Promise<WebhookRequest[]> {
    await until(() => this.requests.length >= count, { timeoutMs, what: () => `${count} webhook request(s) (got ${this.requests.length})` });
    return this.requests.slice(0, count);
  }

  async stop(): Promise<void> {
    for (const res of this.hung.splice(0)) res.destroy();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
    this.server = undefined;
  }
}
