/**
 * A local fake Slack for tests (never product code): the Web API (reached
 * through SLACK_API_URL) recording every call, with injectable 429s and failures,
 * users.info answered from a settable map of profiles; a Socket
 * Mode WebSocket (hello, envelopes, acks); and HMAC-signed Events API requests and
 * interactive payloads (a button press).
 */
import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SlowMethods } from './slow-methods.js';
import { WebSocketServer, type WebSocket } from 'ws';
import { until } from '../wait.js';

export interface ApiCall {
  method: string;
  args: Record<string, unknown>;
  at: number;
}

/** A message as a person sees it in the fake workspace (posted, then maybe edited). */
export interface SlackMessage {
  channel: string;
  ts: string;
  text: string;
  threadTs?: string | undefined;
  /** The message's blocks, as posted (chat.update without blocks keeps them, as Slack does). */
  blocks?: unknown[] | undefined;
  edits: number;
}

export const TEAM = 'T0TEAM';
export const BOT_USER = 'UBOT0001';

export class FakeSlack {
  readonly calls: ApiCall[] = [];
  /** Method -> how many 429s to answer before succeeding, and the Retry-After seconds. */
  rateLimits = new Map<string, { times: number; retryAfter: number }>();
  /** Method -> how many calls to fail with `{ ok: false, error }` before succeeding. */
  failures = new Map<string, { times: number; error: string }>();
  /**
   * users.info answers: user id -> the profile's time zone and locale (each only when set). A user
   * not here is answered with neither, like a profile Slack knows nothing about.
   */
  readonly users = new Map<string, { tz?: string; locale?: string }>();
  /** Messages that exist, by ts (chat.postMessage adds, chat.update edits, chat.delete removes). */
  readonly messages = new Map<string, SlackMessage>();
  /** Per-method delays (`delays`) and the most calls of a method answered at once (`maxInFlight`). */
  private readonly slow = new SlowMethods();
  readonly delays = this.slow.delays;
  readonly maxInFlight = this.slow.maxInFlight;
  /**
   * Told of each change to `messages` as it happens (the demos print them live; tests read
   * `messages` instead). A copy, so a later edit does not change what was reported.
   */
  onChange: ((kind: 'posted' | 'edited' | 'deleted', message: SlackMessage) => void) | undefined;
  /** Acks received over Socket Mode, by envelope id. */
  readonly acks = new Map<string, unknown>();
  private server: Server | undefined;
  private wss: WebSocketServer | undefined;
  private socket: WebSocket | undefined;
  private socketReady: Promise<void> | undefined;
  private socketClosed: Promise<void> = Promise.resolve();
  private seq = 0;
  port = 0;

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.wss = new WebSocketServer({ server: this.server, path: '/socket' });
    this.socketReady = new Promise((resolve) => {
      this.wss!.on('connection', (ws) => {
        this.socket = ws;
        this.socketClosed = new Promise((closed) => ws.once('close', () => closed()));
        ws.on('message', (data) => {
          const msg = JSON.parse(String(data)) as { envelope_id?: string; payload?: unknown };
          if (msg.envelope_id) this.acks.set(msg.envelope_id, msg.payload ?? null);
        });
        ws.send(JSON.stringify({ type: 'hello', num_connections: 1, debug_info: { host: 'fake' }, connection_info: { app_id: 'A0APP' } }));
        resolve();
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.port = (this.server!.address() as AddressInfo).port;
    return `http://127.0.0.1:${this.port}/api/`;
  }

  async stop(): Promise<void> {
    this.socket?.terminate();
    this.wss?.close();
    this.server?.closeAllConnections();
    await new Promise<void>((r) => this.server?.close(() => r()) ?? r());
  }

  /**
   * Resolves once the Socket Mode client has closed its connection (the close handshake done),
   * or at once when none is open. Stopping the fake before then leaves Bolt's client waiting
   * 30 s for a handshake that cannot come, keeping its process alive.
   */
  disconnected(): Promise<void> {
    return this.socketClosed;
  }

  /** Calls of one method, in order. */
  of(method: string): ApiCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** The messages in one channel, oldest first: what a person would see. */
  visible(channel: string): SlackMessage[] {
    return [...this.messages.values()].filter((m) => m.channel === channel);
  }

  /** Waits until `count` calls of `method` have arrived. */
  async waitFor(method: string, count = 1, timeoutMs = 5000): Promise<ApiCall[]> {
    await until(() => this.of(method).length >= count, { timeoutMs, what: () => `${count} ${method} call(s); got ${this.of(method).length}` });
    return this.of(method);
  }

  /** Sends a Socket Mode envelope (after the client connected) and returns its id. */
  async sendEnvelope(type: 'events_api' | 'slash_commands' | 'interactive', payload: unknown): Promise<string> {
    await this.socketReady;
    const envelope_id = `env-${++this.seq}`;
    this.socket!.send(JSON.stringify({ envelope_id, type, payload, accepts_response_payload: type === 'slash_commands' }));
    return envelope_id;
  }

  async waitForAck(envelopeId: string, timeoutMs = 5000): Promise<unknown> {
    await until(() => this.acks.has(envelopeId), { timeoutMs, what: `an ack for ${envelopeId}` });
    return this.acks.get(envelopeId);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = (req.url ?? '').replace(/^\/api\//, '').split('?')[0]!;
    let body = '';
    for await (const chunk of req) body += chunk;
    const args: Record<string, unknown> = (req.headers['content-type'] ?? '').includes('json')
      ? (JSON.parse(body || '{}') as Record<string, unknown>)
      : Object.fromEntries(new URLSearchParams(body));
    for (const [k, v] of Object.entries(args)) {
      if (typeof v === 'string' && /^[[{]/.test(v)) {
        try {
          args[k] = JSON.parse(v);
        } catch {
          // a plain string after all
        }
      }
    }
    this.calls.push({ method, args, at: Date.now() });
    await this.slow.wait(method);
    const limit = this.rateLimits.get(method);
    if (limit && limit.times > 0) {
      limit.times--;
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': String(limit.retryAfter) }).end(JSON.stringify({ ok: false, error: 'ratelimited' }));
      return;
    }
    const failure = this.failures.get(method);
    if (failure && failure.times > 0) {
      failure.times--;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: false, error: failure.error }));
      return;
    }
    const ok = (extra: Record<string, unknown> = {}): void => void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true, ...extra }));
    switch (method) {
      case 'auth.test':
        return ok({ url: 'https://fake.slack.com/', team: 'Fake', user: 'guide', team_id: TEAM, user_id: BOT_USER, bot_id: 'B0BOT' });
      case 'chat.postMessage': {
        const ts = `${Math.floor(Date.now() / 1000)}.${String(++this.seq).padStart(6, '0')}`;
        const blocks = Array.isArray(args.blocks) ? (args.blocks as unknown[]) : undefined;
        this.messages.set(ts, { channel: String(args.channel), ts, text: String(args.text), threadTs: args.thread_ts as string | undefined, blocks, edits: 0 });
        this.onChange?.('posted', { ...this.messages.get(ts)! });
        return ok({ channel: args.channel, ts, message: { text: args.text } });
      }
      case 'chat.update': {
        const m = this.messages.get(String(args.ts));
        if (m) Object.assign(m, { text: String(args.text), edits: m.edits + 1, ...(Array.isArray(args.blocks) ? { blocks: args.blocks } : {}) });
        if (m) this.onChange?.('edited', { ...m });
        return ok({ channel: args.channel, ts: args.ts, text: args.text });
      }
      case 'chat.delete': {
        const gone = this.messages.get(String(args.ts));
        this.messages.delete(String(args.ts));
        if (gone) this.onChange?.('deleted', gone);
        return ok({ channel: args.channel, ts: args.ts });
      }
      case 'chat.getPermalink':
        return ok({ channel: args.channel, permalink: `https://fake.slack.com/archives/${String(args.channel)}/p${String(args.message_ts).replace('.', '')}` });
      case 'chat.postEphemeral':
        return ok({ message_ts: `${Math.floor(Date.now() / 1000)}.${String(++this.seq).padStart(6, '0')}` });
      case 'users.info': {
        const id = String(args.user);
        const who = this.users.get(id) ?? {};
        // The locale only when asked for it (include_locale), as Slack does.
        const locale = who.locale && String(args.include_locale) === 'true' ? { locale: who.locale } : {};
        return ok({ user: { id, team_id: TEAM, name: id.toLowerCase(), is_bot: false, ...(who.tz ? { tz: who.tz } : {}), ...locale } });
      }
      case 'apps.connections.open':
        return ok({ url: `ws://127.0.0.1:${this.port}/socket` });
      default:
        return ok();
    }
  }
}

/** Posts an Events API body to the bot, signed like Slack (v0 HMAC-SHA256), and returns status and time to respond. */
export async function sendSigned(
  url: string,
  body: unknown,
  secret: string,
  opts: { timestamp?: number; retryNum?: number; forge?: boolean } = {},
): Promise<{ status: number; ms: number }> {
  const raw = JSON.stringify(body);
  const ts = opts.timestamp ?? Math.floor(Date.now() / 1000);
  const sig = `v0=${createHmac('sha256', opts.forge ? 'not-the-secret' : secret).update(`v0:${ts}:${raw}`).digest('hex')}`;
  const started = performance.now();
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-slack-signature': sig,
      'x-slack-request-timestamp': String(ts),
      ...(opts.retryNum ? { 'x-slack-retry-num': String(opts.retryNum), 'x-slack-retry-reason': 'http_timeout' } : {}),
    },
    body: raw,
  });
  await res.text();
  return { status: res.status, ms: performance.now() - started };
}

/** An Events API callback wrapping `event`. */
export function eventCallback(event: Record<string, unknown>, eventId = `Ev${Math.random().toString(36).slice(2, 10)}`) {
  return { token: 'x', team_id: TEAM, api_app_id: 'A0APP', type: 'event_callback', event_id: eventId, event_time: Math.floor(Date.now() / 1000), event: { team: TEAM, ...event } };
}

/** Posts a slash command like Slack does (form-encoded, signed) and returns the elapsed time and the JSON ack. */
export async function sendCommand(url: string, secret: string, fields: Record<string, string>): Promise<{ ms: number; body: { response_type: string; text: string } }> {
  const body = new URLSearchParams({ command: '/trt', team_id: TEAM, user_id: 'U0PERSON', response_url: 'http://127.0.0.1:1/x', trigger_id: 't', ...fields }).toString();
  const stamp = Math.floor(Date.now() / 1000);
  const started = Date.now();
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': String(stamp),
      'x-slack-signature': `v0=${createHmac('sha256', secret).update(`v0:${stamp}:${body}`).digest('hex')}`,
    },
    body,
  });
  return { body: (await res.json()) as { response_type: string; text: string }, ms: Date.now() - started };
}

/** A block_actions payload: `user` pressed the button `actionId` (value `value`) on a message in `channel`. */
export function blockAction(opts: { user: string; channel: string; value: string; actionId?: string; messageTs?: string }): Record<string, unknown> {
  const messageTs = opts.messageTs ?? '1700000000.000001';
  return {
    type: 'block_actions',
    token: 'x',
    api_app_id: 'A0APP',
    trigger_id: 't.1',
    team: { id: TEAM, domain: 'fake' },
    user: { id: opts.user, username: 'responder', name: 'responder', team_id: TEAM },
    channel: { id: opts.channel, name: 'responders' },
    container: { type: 'message', message_ts: messageTs, channel_id: opts.channel, is_ephemeral: false },
    message: { type: 'message', ts: messageTs, text: 'alert', blocks: [] },
    response_url: 'http://127.0.0.1:1/actions',
    actions: [{ type: 'button', action_id: opts.actionId ?? 'safety_ack', block_id: 'safety_alert', value: opts.value, text: { type: 'plain_text', text: "I'm on it" }, action_ts: '1700000001.000200' }],
  };
}

/**
 * Posts an interactive payload like Slack does over HTTP (form-encoded `payload=<json>`, signed)
 * and returns the status. `raw` sends the payload field as given (not JSON-encoded).
 */
export async function sendInteractive(url: string, secret: string, payload: unknown, opts: { forge?: boolean; raw?: boolean } = {}): Promise<{ status: number; ms: number }> {
  const body = new URLSearchParams({ payload: opts.raw ? String(payload) : JSON.stringify(payload) }).toString();
  const stamp = Math.floor(Date.now() / 1000);
  const started = performance.now();
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': String(stamp),
      'x-slack-signature': `v0=${createHmac('sha256', opts.forge ? 'not-the-secret' : secret).update(`v0:${stamp}:${body}`).digest('hex')}`,
    },
    body,
  });
  await res.text();
  return { status: res.status, ms: performance.now() - started };
}
