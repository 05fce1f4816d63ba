/**
 * A local fake Discord for tests (never product code): REST under /api/v10
 * (gateway/bot, messages, typing, threads, interaction callbacks, command
 * registration) recording every call, with injectable 429s; and a gateway
 * WebSocket speaking the real protocol (HELLO, IDENTIFY -> READY, heartbeat
 * ACKs, RESUME -> RESUMED, dispatches, op 7 reconnect).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SlowMethods } from './slow-methods.js';
import { WebSocketServer, type WebSocket } from 'ws';
import { until } from '../wait.js';

export const BOT_ID = '100000000000000001';
export const APP_ID = '100000000000000002';
export const GUILD_ID = '200000000000000001';
export const TEXT_CHANNEL_ID = '300000000000000001';

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
}

let snowflake = 500000000000000000n;
export const nextId = () => String(++snowflake);

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

  /** Sends a frame as it is (not JSON, a dispatch with a junk `t`...): what a broken gateway might send. */
  sendRaw(frame: string): void {
    this.socket?.send(frame);
  }

  /** The interaction callbacks (answers) posted for one interaction id. */
  callbacksFor(interactionId: string): RestCall[] {
    return this.calls.filter((c) => c.method === 'POST' && c.path.startsWith(`/interactions/${interactionId}/`) && c.path.endsWith('/callback'));
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
      this.messages.set(posted.id, { id: posted.id, channelId: m[1]!, content: posted.content, edits: 0 });
      this.onChange?.('posted', { ...this.messages.get(posted.id)! });
      return json(200, posted);
    }
    if ((method === 'PATCH' || method === 'DELETE') && (m = /^\/channels\/(\d+)\/messages\/(\d+)$/.exec(path))) {
      const existing = this.messages.get(m[2]!);
      if (!existing || existing.channelId !== m[1]) return json(404, { message: 'Unknown Message', code: 10008 });
      if (method === 'DELETE') {
        this.messages.delete(existing.id);
        this.onChange?.('deleted', existing);
        return void res.writeHead(204).end();
      }
      Object.assign(existing, { content: String(body.content ?? existing.content), edits: existing.edits + 1 });
      this.onChange?.('edited', { ...existing });
      return json(200, message({ id: existing.id, channel_id: existing.channelId, content: existing.content, author: botUser() }));
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
    if (method === 'POST' && /^\/interactions\/\d+\/[^/]+\/callback$/.test(path)) return void res.writeHead(204).end();
    if (method === 'PATCH' && (m = /^\/webhooks\/\d+\/[^/]+\/messages\/@original$/.exec(path))) {
      return json(200, message({ channel_id: '0', content: String(body.content ?? ''), author: botUser() }));
    }
    if (method === 'GET' && path === '/oauth2/applications/@me') return json(200, { id: APP_ID, name: 'Guide', flags: 0 });
    if (method === 'PUT' && /^\/applications\/\d+(\/guilds\/\d+)?\/commands$/.test(path)) return json(200, body);
    return json(404, { message: 'Unknown route', code: 0 });
  }
}

export function botUser() {
  return { id: BOT_ID, username: 'guide', discriminator: '0', global_name: 'Guide', avatar: null, bot: true };
}

export function person(id = '400000000000000001') {
  return { id, username: `person${id.slice(-3)}`, discriminator: '0', global_name: 'Person', avatar: null };
}

/** A MESSAGE_CREATE payload. */
export function message(fields: { channel_id: string; content: string; author: ReturnType<typeof person>; guild_id?: string; mentions?: unknown[]; type?: number; id?: string; channel_type?: number }) {
  return {
    id: fields.id ?? nextId(),
    channel_id: fields.channel_id,
    // Real DMs arrive with channel_type 1, which discord.js needs to build the uncached DM channel.
    ...(fields.guild_id ? {} : { channel_type: fields.channel_type ?? 1 }),
    ...(fields.guild_id ? { guild_id: fields.guild_id, member: { roles: [], joined_at: new Date().toISOString(), deaf: false, mute: false, flags: 0 } } : {}),
    author: fields.author,
    content: fields.content,
    timestamp: new Date().toISOString(),
    edited_timestamp: null,
    tts: false,
    mention_everyone: false,
    mentions: fields.mentions ?? [],
    mention_roles: [],
    attachments: [],
    embeds: [],
    pinned: false,
    type: fields.type ?? 0,
    flags: 0,
  };
}

function threadChannel(parentId: string, name: string, type: number) {
  return {
    id: nextId(),
    type,
    guild_id: GUILD_ID,
    parent_id: parentId,
    name,
    owner_id: BOT_ID,
    thread_metadata: { archived: false, auto_archive_duration: 1440, archive_timestamp: new Date().toISOString(), locked: false },
    member_count: 1,
    message_count: 0,
  };
}

function guild() {
  return {
    id: GUILD_ID,
    name: 'Fake guild',
    icon: null,
    owner_id: '400000000000000999',
    afk_channel_id: null,
    afk_timeout: 300,
    verification_level: 0,
    default_message_notifications: 0,
    explicit_content_filter: 0,
    roles: [{ id: GUILD_ID, name: '@everyone', permissions: '1024', position: 0, color: 0, hoist: false, managed: false, mentionable: false, flags: 0 }],
    emojis: [],
    features: [],
    mfa_level: 0,
    system_channel_id: null,
    system_channel_flags: 0,
    premium_tier: 0,
    preferred_locale: 'en-US',
    nsfw_level: 0,
    joined_at: new Date().toISOString(),
    large: false,
    unavailable: false,
    member_count: 2,
    members: [{ user: botUser(), roles: [], joined_at: new Date().toISOString(), deaf: false, mute: false, flags: 0 }],
    channels: [{ id: TEXT_CHANNEL_ID, type: 0, guild_id: GUILD_ID, name: 'general', position: 0, permission_overwrites: [], nsfw: false, parent_id: null }],
    threads: [],
    presences: [],
    voice_states: [],
    stage_instances: [],
    guild_scheduled_events: [],
    stickers: [],
  };
}

/** An INTERACTION_CREATE payload for `/trt <sub>`, in a DM or a guild channel. */
export function slashCommand(sub: string, where: { channelId: string; guildId?: string }, user = person()) {
  return interaction(2, { id: nextId(), name: 'trt', type: 1, options: [{ name: sub, type: 1 }] }, where, user);
}

/** An INTERACTION_CREATE payload of any type (2 command, 3 component, 4 autocomplete, 5 modal) with the given `data`. */
export function interaction(type: number, data: Record<string, unknown>, where: { channelId: string; guildId?: string }, user = person()) {
  return {
    id: nextId(),
    application_id: APP_ID,
    type,
    token: `tok${nextId()}`,
    version: 1,
    locale: 'en-US',
    app_permissions: '2048',
    entitlements: [],
    authorizing_integration_owners: {},
    context: where.guildId ? 0 : 1,
    channel_id: where.channelId,
    channel: { id: where.channelId, type: where.guildId ? 0 : 1 },
    ...(where.guildId ? { guild_id: where.guildId, member: { user, roles: [], joined_at: new Date().toISOString(), deaf: false, mute: false, flags: 0, permissions: '2048' } } : { user }),
    // A component interaction carries the message its component sits on.
    ...(type === 3 ? { message: message({ channel_id: where.channelId, content: 'a message with a button', author: botUser() as ReturnType<typeof person>, ...(where.guildId ? { guild_id: where.guildId } : {}) }) } : {}),
    data,
  };
}

/** A button press (component_type 2) on a message, e.g. one the bot never sent. */
export function buttonPress(where: { channelId: string; guildId?: string }, customId = 'unknown-button') {
  return interaction(3, { custom_id: customId, component_type: 2 }, where);
}

/** An autocomplete request for a command option. */
export function autocomplete(where: { channelId: string; guildId?: string }, name = 'trt') {
  return interaction(4, { id: nextId(), name, type: 1, options: [{ name: 'query', type: 3, value: 'x', focused: true }] }, where);
}

/** A modal submitted (the bot never opens one). */
export function modalSubmit(where: { channelId: string; guildId?: string }) {
  return interaction(5, { custom_id: 'unknown-modal', components: [{ type: 1, components: [{ type: 4, custom_id: 'field', value: 'typed' }] }] }, where);
}
