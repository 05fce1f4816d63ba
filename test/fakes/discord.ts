/**
 * A local fake Discord for tests (never product code): REST under /api/v10
 * (gateway/bot, messages, typing, threads, interaction callbacks, command
 * registration) recording every call, with injectable 429s; and a gateway
 * WebSocket speaking the real protocol (HELLO, IDENTIFY -> READY, heartbeat
 * ACKs, RESUME -> RESUMED, dispatches, op 7 reconnect). Messages keep their
 * components (buttons), and a button on one can be pressed (pressButton), its
 * UPDATE_MESSAGE answer applied to the message as Discord does. The payload
 * builders are in discord-payloads.ts (re-exported here).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SlowMethods } from './slow-methods.js';
import { WebSocketServer, type WebSocket } from 'ws';
import { until } from '../wait.js';
import { APP_ID, BOT_ID, GUILD_ID, botUser, guild, interaction, message, person, threadChannel } from './discord-payloads.js';

export * from './discord-payloads.js';

export interface RestCall {
  method: string;
  path: string;
  body: Record<string, unknown>;
  at: number;
}

/** A message as a person sees it in the fake (posted, then maybe edited). */
export interface DiscordMessage {
  id: string;
  channelId: string;
  content: string;
  edits: number;
  /** Action rows as last posted or edited (`[]`: none). */
  components: unknown[];
}

const DISCORD_EPOCH = 1420070400000n;
let lastNow = 0n;
/** A snowflake whose timestamp is now (unique: the low bits count up within a millisecond). */
export function nowSnowflake(): string {
  const id = (BigInt(Date.now()) - DISCORD_EPOCH) << 22n;
  lastNow = id > lastNow ? id : lastNow + 1n;
  return String(lastNow);
}

export class FakeDiscord {
  readonly calls: RestCall[] = [];
  /** Path pattern -> 429s to answer first, with Retry-After seconds. */
  rateLimits = new Map<RegExp, { times: number; retryAfter: number }>();
  /** Requests to fail (not 429) a number of times, e.g. PATCH of a message with 403 Missing Access. */
  failures: Array<{ method: string; pattern: RegExp; times: number; status: number; code: number }> = [];
  /** Messages that exist, by id (POST adds, PATCH edits, DELETE removes). */
  readonly messages = new Map<string, DiscordMessage>();
  /** Per-method delays (`delays`) and the most calls of a method answered at once (`maxInFlight`). */
  private readonly slow = new SlowMethods();
  readonly delays = this.slow.delays;
  readonly maxInFlight = this.slow.maxInFlight;
  /**
   * Told of each change to `messages` as it happens, and of each "typing" (the demos print
   * them live; tests read `messages` and `calls` instead). A copy, so a later edit does not
   * change what was reported.
   */
  onChange: ((kind: 'posted' | 'edited' | 'deleted', message: DiscordMessage) => void) | undefined;
  onTyping: ((channelId: string) => void) | undefined;
  /** Answer thread creation with 403 Missing Permissions (code 50013). */
  threadsForbidden = false;
  /** A pressed button's interaction id -> the message it sits on (its UPDATE_MESSAGE answer edits it). */
  private readonly pressed = new Map<string, string>();
  identifies = 0;
  resumes = 0;
  private server: Server | undefined;
  private wss: WebSocketServer | undefined;
  private socket: WebSocket | undefined;
  private seq = 0;
  private sessionId = 'fake-session';
  private connected: Promise<void> = Promise.resolve();
  private markConnected: () => void = () => undefined;
  port = 0;

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.wss = new WebSocketServer({ server: this.server });
    this.expectConnection();
    this.wss.on('connection', (ws) => this.onConnection(ws));
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.port = (this.server!.address() as AddressInfo).port;
    return `http://127.0.0.1:${this.port}/api`;
  }

  async stop(): Promise<void> {
    for (const c of this.wss?.clients ?? []) c.terminate();
    this.wss?.close();
    this.server?.closeAllConnections();
    await new Promise<void>((r) => this.server?.close(() => r()) ?? r());
  }

  of(method: string, pattern: RegExp): RestCall[] {
    return this.calls.filter((c) => c.method === method && pattern.test(c.path));
  }

  /** The messages in one channel, oldest first: what a person would see. */
  visible(channelId: string): DiscordMessage[] {
    return [...this.messages.values()].filter((m) => m.channelId === channelId);
  }

  async waitFor(method: string, pattern: RegExp, count = 1, timeoutMs = 5000): Promise<RestCall[]> {
    await until(() => this.of(method, pattern).length >= count, { timeoutMs, what: () => `${count} ${method} ${pattern}; got ${this.of(method, pattern).length}` });
    return this.of(method, pattern);
  }

  /** Resolves once a client has identified (or resumed) and is ready for dispatches. */
  ready(): Promise<void> {
    return this.connected;
  }

  /** Sends a gateway dispatch (op 0). */
  dispatch(t: string, d: unknown): void {
    this.socket?.send(JSON.stringify({ op: 0, t, s: ++this.seq, d }));
  }

  /**
   * Sends one dispatch to every connected client (`dispatch` reaches only the latest): two bot
   * instances sharing the fake both receive the same event, as a replay to another instance would.
   */
  dispatchAll(t: string, d: unknown): void {
    const frame = JSON.stringify({ op: 0, t, s: ++this.seq, d });
    for (const ws of this.wss?.clients ?? []) ws.send(frame);
  }

  /** Sends a frame as it is (not JSON, a dispatch with a junk `t`...): what a broken gateway might send. */
  sendRaw(frame: string): void {
    this.socket?.send(frame);
  }

  /** The interaction callbacks (answers) posted for one interaction id. */
  callbacksFor(interactionId: string): RestCall[] {
    return this.calls.filter((c) => c.method === 'POST' && c.path.startsWith(`/interactions/${interactionId}/`) && c.path.endsWith('/callback'));
  }

  /**
   * Presses a button on a message the fake holds, as the real gateway sends it: an
   * INTERACTION_CREATE of type 3 carrying the whole message (its components included), by a
   * guild member (guildId given) or a DM user. The custom id is the message's first button's
   * unless given. Returns the payload (its id for callbacksFor).
   */
  pressButton(messageId: string, by: { user?: ReturnType<typeof person>; guildId?: string; customId?: string } = {}) {
    const m = this.messages.get(messageId);
    if (!m) throw new Error(`no message ${messageId} to press a button on`);
    const rows = m.components as Array<{ components?: Array<{ type?: number; custom_id?: string }> }>;
    const customId = by.customId ?? rows.flatMap((r) => r.components ?? []).find((c) => c.type === 2)?.custom_id;
    if (customId === undefined) throw new Error(`message ${messageId} has no button`);
    const where = { channelId: m.channelId, ...(by.guildId ? { guildId: by.guildId } : {}) };
    const onMessage = { ...message({ id: m.id, channel_id: m.channelId, content: m.content, author: botUser(), ...(by.guildId ? { guild_id: by.guildId } : {}) }), components: m.components };
    // Discord's ids carry their creation time, which discord.js reads (createdTimestamp) to
    // know how long of the 3 s to answer is left: a press has one from now.
    const d = { ...interaction(3, { custom_id: customId, component_type: 2 }, where, by.user ?? person(), onMessage), id: nowSnowflake() };
    this.pressed.set(d.id, m.id);
    this.dispatch('INTERACTION_CREATE', d);
    return d;
  }

  /** Asks the client to reconnect (op 7); it should RESUME on a new connection. */
  requestReconnect(): void {
    this.expectConnection();
    this.socket?.send(JSON.stringify({ op: 7, d: null }));
  }

  private expectConnection(): void {
    this.connected = new Promise((r) => (this.markConnected = r));
  }

  private onConnection(ws: WebSocket): void {
    this.socket = ws;
    ws.send(JSON.stringify({ op: 10, d: { heartbeat_interval: 30_000 } }));
    ws.on('message', (raw) => {
      const msg = JSON.parse(String(raw)) as { op: number; d: any };
      if (msg.op === 1) ws.send(JSON.stringify({ op: 11 }));
      if (msg.op === 2) {
        this.identifies++;
        ws.send(
          JSON.stringify({
            op: 0,
            t: 'READY',
            s: ++this.seq,
            d: {
              v: 10,
              user: { id: BOT_ID, username: 'guide', discriminator: '0', global_name: 'Guide', avatar: null, bot: true },
              guilds: [{ id: GUILD_ID, unavailable: true }],
              session_id: this.sessionId,
              resume_gateway_url: `ws://127.0.0.1:${this.port}`,
              application: { id: APP_ID, flags: 0 },
              private_channels: [],
            },
          }),
        );
        this.dispatch('GUILD_CREATE', guild());
        this.markConnected();
      }
      if (msg.op === 6) {
        this.resumes++;
        this.dispatch('RESUMED', null);
        this.markConnected();
      }
    });
  }

  /** An edit: content and components change only when the body carries them. */
  private edit(existing: DiscordMessage, body: Record<string, unknown>): void {
    Object.assign(existing, {
      content: typeof body.content === 'string' ? body.content : existing.content,
      ...(Array.isArray(body.components) ? { components: body.components } : {}),
      edits: existing.edits + 1,
    });
    this.onChange?.('edited', { ...existing });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = decodeURIComponent((req.url ?? '').replace(/^\/api\/v10/, '').split('?')[0]!);
    const method = req.method ?? 'GET';
    let raw = '';
    for await (const chunk of req) raw += chunk;
    let body: Record<string, unknown> = {};
    if (raw && (req.headers['content-type'] ?? '').includes('json')) body = JSON.parse(raw) as Record<string, unknown>;
    else if (raw && (req.headers['content-type'] ?? '').includes('multipart')) {
      const json = /\{[\s\S]*\}/.exec(raw);
      if (json) body = JSON.parse(json[0]) as Record<string, unknown>;
    }
    this.calls.push({ method, path, body, at: Date.now() });
    for (const [pattern, limit] of this.rateLimits) {
      if (pattern.test(path) && limit.times > 0) {
        limit.times--;
        res.writeHead(429, { 'content-type': 'application/json', 'retry-after': String(limit.retryAfter), 'x-ratelimit-scope': 'user' });
        res.end(JSON.stringify({ message: 'You are being rate limited.', retry_after: limit.retryAfter, global: false }));
        return;
      }
    }
    const json = (status: number, data: unknown) => void res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(data));
    await this.slow.wait(method);
    const failure = this.failures.find((f) => f.method === method && f.pattern.test(path) && f.times > 0);
    if (failure) {
      failure.times--;
      return json(failure.status, { message: 'Injected failure', code: failure.code });
    }
    let m: RegExpExecArray | null;
    if (method === 'GET' && path === '/gateway/bot') {
      return json(200, { url: `ws://127.0.0.1:${this.port}`, shards: 1, session_start_limit: { total: 1000, remaining: 1000, reset_after: 0, max_concurrency: 1 } });
    }
    if (method === 'POST' && (m = /^\/channels\/(\d+)\/messages$/.exec(path))) {
      const posted = message({ channel_id: m[1]!, content: String(body.content ?? ''), author: botUser() });
      const components = Array.isArray(body.components) ? body.components : [];
      this.messages.set(posted.id, { id: posted.id, channelId: m[1]!, content: posted.content, edits: 0, components });
      this.onChange?.('posted', { ...this.messages.get(posted.id)! });
      return json(200, { ...posted, components });
    }
    if ((method === 'PATCH' || method === 'DELETE') && (m = /^\/channels\/(\d+)\/messages\/(\d+)$/.exec(path))) {
      const existing = this.messages.get(m[2]!);
      if (!existing || existing.channelId !== m[1]) return json(404, { message: 'Unknown Message', code: 10008 });
      if (method === 'DELETE') {
        this.messages.delete(existing.id);
        this.onChange?.('deleted', existing);
        return void res.writeHead(204).end();
      }
      this.edit(existing, body);
      return json(200, { ...message({ id: existing.id, channel_id: existing.channelId, content: existing.content, author: botUser() }), components: existing.components });
    }
    if (method === 'POST' && (m = /^\/channels\/(\d+)\/typing$/.exec(path))) {
      this.onTyping?.(m[1]!);
      return void res.writeHead(204).end();
    }
    if (this.threadsForbidden && method === 'POST' && /\/threads$/.test(path)) return json(403, { message: 'Missing Permissions', code: 50013 });
    if (method === 'POST' && (m = /^\/channels\/(\d+)\/messages\/(\d+)\/threads$/.exec(path))) {
      return json(201, threadChannel(m[1]!, String(body.name ?? 'thread'), 11));
    }
    if (method === 'POST' && (m = /^\/channels\/(\d+)\/threads$/.exec(path))) {
      return json(201, threadChannel(m[1]!, String(body.name ?? 'thread'), Number(body.type ?? 12)));
    }
    if (method === 'PUT' && /^\/channels\/\d+\/thread-members\/\d+$/.test(path)) return void res.writeHead(204).end();
    if (method === 'POST' && (m = /^\/interactions\/(\d+)\/[^/]+\/callback$/.exec(path))) {
      // UPDATE_MESSAGE (7): the pressed button's message is edited, as Discord does.
      const on = this.messages.get(this.pressed.get(m[1]!) ?? '');
      if (body.type === 7 && on) this.edit(on, (body.data ?? {}) as Record<string, unknown>);
      return void res.writeHead(204).end();
    }
    if (method === 'PATCH' && (m = /^\/webhooks\/\d+\/[^/]+\/messages\/@original$/.exec(path))) {
      return json(200, message({ channel_id: '0', content: String(body.content ?? ''), author: botUser() }));
    }
    if (method === 'GET' && path === '/oauth2/applications/@me') return json(200, { id: APP_ID, name: 'Guide', flags: 0 });
    if (method === 'PUT' && /^\/applications\/\d+(\/guilds\/\d+)?\/commands$/.test(path)) return json(200, body);
    return json(404, { message: 'Unknown route', code: 0 });
  }
}
