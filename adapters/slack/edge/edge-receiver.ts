/**
 * The Slack HTTP edge: a Bolt receiver (`init`/`start`/`stop`, like Bolt's own
 * HTTPReceiver) that checks every request before Bolt sees it.
 *
 *   1. route: /slack/events (POST), the ops routes, else 404
 *   2. headers: a body over the limit (413) or a signature that cannot pass (401) is
 *      refused before the body is read, and the connection closed
 *   3. body: read within the limit and the time limit (408), then the signature is
 *      checked (five minutes either way, constant time)
 *   4. shape: parsed and sorted by shapes.ts; only a shape the listeners handle reaches
 *      Bolt; the rest is answered at once (200, so Slack does not retry it)
 *   5. dispatch: Bolt's processEvent; the response goes out when the listeners are done
 *      (what Bolt calls processBeforeResponse), so a message is acknowledged only once
 *      it is queued and an instance that dies first leaves Slack to retry
 *
 * Why not Bolt's HTTPReceiver: a signed body that is JSON `null` crashes it
 * (`body.ssl_check` on null, outside any handler), it accepts future-dated signatures,
 * it leaves unhandled shapes to a 3-second timeout and a 404, and it logs parse errors
 * with fragments of the body. Nothing here logs a body: refusals are counted and logged
 * with a reason and, when it is well-formed, the event id.
 */
import type { App, CustomRoute, Receiver, ReceiverEvent } from '@slack/bolt';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { errorCode } from '../../../src/index.js';
import type { Logger } from '../../../src/index.js';
import { classify, type Verdict } from './shapes.js';
import { checkSignature, checkStamp } from './signature.js';

/** Slack's event and command bodies are a few KiB; a long message with its blocks stays far below this. */
export const MAX_BODY_BYTES = 256 * 1024;

/** Why a request was refused or dropped (the `reason` label of trt_edge_rejected_total). */
export type EdgeRejection = 'not_found' | 'method' | 'too_large' | 'unsigned' | 'stale_signature' | 'bad_signature' | 'timeout' | 'unparseable' | 'malformed' | 'failed';

export interface EdgeOptions {
  signingSecret: string;
  logger: Logger;
  /** Default /slack/events. */
  path?: string;
  /** Health and metrics beside the events endpoint (same shape as Bolt's custom routes). */
  customRoutes?: CustomRoute[];
  /** Counts refusals and drops (metrics). */
  onReject?: (reason: EdgeRejection) => void;
  maxBodyBytes?: number;
  /** Headers must arrive within this. Default 5 s. */
  headersTimeoutMs?: number;
  /** The whole request (headers and body) must arrive within this. Default 10 s. */
  requestTimeoutMs?: number;
}

export class SlackEdgeReceiver implements Receiver {
  private app: App | undefined;
  private server: Server | undefined;
  private readonly path: string;
  private readonly maxBody: number;
  private readonly headersTimeout: number;
  private readonly requestTimeout: number;

  constructor(private readonly opts: EdgeOptions) {
    this.path = opts.path ?? '/slack/events';
    this.maxBody = opts.maxBodyBytes ?? MAX_BODY_BYTES;
    this.headersTimeout = opts.headersTimeoutMs ?? 5000;
    this.requestTimeout = opts.requestTimeoutMs ?? 10_000;
  }

  init(app: App): void {
    this.app = app;
  }

  /** Listens on `port` (0: any free port); resolves with the server once it is bound. */
  async start(port: number): Promise<Server> {
    const server = createServer(
      {
        headersTimeout: this.headersTimeout,
        requestTimeout: this.requestTimeout,
        // Node checks those timeouts on this interval (default 30 s): a slow client is cut
        // off within about a second of its deadline, not half a minute later.
        connectionsCheckingInterval: 1000,
      },
      (req, res) => this.handle(req, res),
    );
    server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
      // Malformed HTTP, or a client too slow with its headers or body: counted, told, closed.
      const timeout = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' || err.code === 'ERR_HTTP_HEADERS_TIMEOUT';
      this.reject(timeout ? 'timeout' : 'unparseable');
      if (socket.writable && !socket.writableEnded) socket.end(`HTTP/1.1 ${timeout ? '408 Request Timeout' : '400 Bad Request'}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      socket.destroy();
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    return server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
      // Requests in flight get a moment to be answered; then every connection goes.
      setTimeout(() => server.closeAllConnections(), 2000).unref();
    });
  }

  private reject(reason: EdgeRejection): void {
    this.opts.onReject?.(reason);
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    this.route(req, res).catch((err: unknown) => {
      this.reject('failed');
      this.opts.logger.error({ err: errorCode(err) }, 'Slack edge: request failed');
      if (!res.headersSent) send(res, 500, undefined, true);
      else res.destroy();
    });
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = pathOf(req.url);
    const custom = this.opts.customRoutes?.find((r) => r.path === path && methods(r.method).includes(req.method ?? ''));
    if (custom) return void custom.handler(req as never, res as never);
    if (path !== this.path) return this.refuse(req, res, 404, 'not_found');
    if (req.method !== 'POST') return this.refuse(req, res, 405, 'method');

    const length = Number(req.headers['content-length'] ?? 0);
    if (!Number.isFinite(length) || length > this.maxBody) return this.refuse(req, res, 413, 'too_large');
    const timestamp = header(req, 'x-slack-request-timestamp');
    const signature = header(req, 'x-slack-signature');
    const stamp = checkStamp(timestamp, signature);
    if (stamp !== 'ok') return this.refuse(req, res, 401, stamp === 'stale' ? 'stale_signature' : stamp === 'missing' ? 'unsigned' : 'bad_signature');

    const raw = await readBody(req, this.maxBody, this.requestTimeout);
    if (raw === 'too_large') return this.refuse(req, res, 413, 'too_large');
    if (raw === 'timeout') return this.refuse(req, res, 408, 'timeout');
    if (raw === 'aborted') return;
    if (checkSignature(this.opts.signingSecret, timestamp, signature, raw) !== 'ok') return this.refuse(req, res, 401, 'bad_signature');

    const parsed = parse(header(req, 'content-type'), raw);
    if (parsed === undefined) {
      this.reject('unparseable');
      this.opts.logger.warn({ reason: 'body is neither JSON nor a form' }, 'Slack request refused at the edge');
      return send(res, 400);
    }
    const verdict: Verdict = classify(parsed.body, parsed.form);
    switch (verdict.kind) {
      case 'reply':
        return send(res, verdict.status, verdict.json);
      case 'ignore':
        return send(res, 200);
      case 'drop':
        this.reject('malformed');
        this.opts.logger.warn({ ...(verdict.eventId ? { eventId: verdict.eventId } : {}), reason: verdict.reason }, 'Slack request dropped at the edge');
        return send(res, 200);
      case 'dispatch':
        return this.dispatch(req, res, verdict.body);
    }
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse, body: Record<string, unknown>): Promise<void> {
    let acked = false;
    let stored: unknown;
    const event: ReceiverEvent = {
      body,
      ack: async (response?: unknown) => {
        if (acked) return; // a second ack changes nothing: the first answer stands
        acked = true;
        stored = response;
      },
      ...retryOf(req),
    };
    try {
      await this.app!.processEvent(event);
    } catch (err) {
      // Not answered: 500, so Slack delivers it again (the message is not lost). Answered
      // already: the answer stands, the failure is logged.
      this.opts.logger.error({ err: errorCode(err) }, 'Slack event failed');
      if (!acked) {
        this.reject('failed');
        return send(res, 500);
      }
    }
    send(res, 200, stored);
  }

  /** A refusal: answered at once, and the connection closed (what is left of the body is not read). */
  private refuse(req: IncomingMessage, res: ServerResponse, status: number, reason: EdgeRejection): void {
    this.reject(reason);
    send(res, status, undefined, true);
    // What is already on its way is read and thrown away so the client sees the answer; one
    // that keeps sending past a moment loses the connection.
    req.resume();
    res.once('finish', () => {
      if (!req.complete) setTimeout(() => req.socket.destroy(), 200).unref();
    });
  }
}

function send(res: ServerResponse, status: number, body?: unknown, close = false): void {
  if (res.headersSent) return;
  const text = body === undefined || body === '' ? '' : typeof body === 'string' ? body : JSON.stringify(body);
  const type = typeof body === 'object' && body !== null ? 'application/json' : 'text/plain; charset=utf-8';
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text), ...(close ? { connection: 'close' } : {}) });
  res.end(text);
}

function methods(m: string | string[]): string[] {
  return (Array.isArray(m) ? m : [m]).map((x) => x.toUpperCase());
}

function pathOf(url: string | undefined): string {
  const raw = url ?? '/';
  const q = raw.indexOf('?');
  return q >= 0 ? raw.slice(0, q) : raw;
}

/** One header's value; a repeated header is not trusted (undefined). */
function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return typeof v === 'string' ? v : undefined;
}

function retryOf(req: IncomingMessage): { retryNum?: number; retryReason?: string } {
  const num = Number(header(req, 'x-slack-retry-num'));
  const reason = header(req, 'x-slack-retry-reason');
  return { ...(Number.isInteger(num) && num > 0 ? { retryNum: num } : {}), ...(reason ? { retryReason: reason.slice(0, 64) } : {}) };
}

function readBody(req: IncomingMessage, max: number, timeoutMs: number): Promise<Buffer | 'too_large' | 'timeout' | 'aborted'> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (r: Buffer | 'too_large' | 'timeout' | 'aborted') => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.off('data', onData);
      resolve(r);
    };
    const timer = setTimeout(() => finish('timeout'), timeoutMs);
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > max) return finish('too_large');
      chunks.push(c);
    };
    req.on('data', onData);
    req.once('end', () => finish(Buffer.concat(chunks)));
    req.once('error', () => finish('aborted'));
    req.once('close', () => finish(req.complete ? Buffer.concat(chunks) : 'aborted'));
  });
}

/** JSON, or a form (slash commands; interactive payloads as `payload=<json>`). Repeated form fields become arrays. */
function parse(contentType: string | undefined, raw: Buffer): { body: unknown; form: boolean } | undefined {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  const text = raw.toString('utf8');
  if (type === 'application/json') {
    try {
      return { body: JSON.parse(text) as unknown, form: false };
    } catch {
      return undefined;
    }
  }
  if (type === 'application/x-www-form-urlencoded') {
    // No prototype: a field named __proto__ or constructor is just a field.
    const fields = Object.create(null) as Record<string, string | string[]>;
    for (const [k, v] of new URLSearchParams(text)) {
      const had = Object.hasOwn(fields, k) ? fields[k] : undefined;
      fields[k] = had === undefined ? v : Array.isArray(had) ? [...had, v] : [had, v];
    }
    return { body: fields, form: true };
  }
  return undefined;
}
