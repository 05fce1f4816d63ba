/**
 * A local OpenAI-compatible HTTP server for tests (never product code). It
 * speaks the real embeddings protocol (POST /v1/embeddings, float or base64
 * encoding) and can inject the faults the client must survive: 429 with
 * Retry-After, 5xx, and hangs. It also serves POST …/chat/completions
 * (non-streamed and SSE-streamed), scripted per request via `chat` /
 * `chatHandler` (see ./openai-chat.ts), and POST …/moderations, scripted via
 * `moderation` / `moderationHandler` (see ./openai-moderation.ts).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { DEFAULT_CHAT, serveChat, type ChatHost, type ChatRequestLog, type ChatScript } from './openai-chat.js';
import { DEFAULT_MODERATION, serveModeration, type ModerationHost, type ModerationRequestLog, type ModerationScript } from './openai-moderation.js';

export type { ChatFinishReason, ChatRequestLog, ChatScript } from './openai-chat.js';
export { MODERATION_CATEGORIES, type ModerationCategory, type ModerationRequestLog, type ModerationScript } from './openai-moderation.js';

export type Fault = { status: 429; retryAfter?: string } | { status: 500 | 502 | 503 } | { hang: true };

export interface EmbeddingRequestLog {
  at: number;
  inputs: string[];
  model: string;
  dimensions: number | undefined;
  encoding: string | undefined;
  status: number;
  /** Request path: tests give each client its own base path (…/a/v1) to tell them apart. */
  path: string;
}

export class FakeOpenAi implements ChatHost, ModerationHost {
  readonly requests: EmbeddingRequestLog[] = [];
  /** Faults served, in order, before normal answers. */
  faults: Fault[] = [];
  /** Delay before each normal answer (to observe concurrency). */
  delayMs = 0;
  /** Requests being answered right now (embeddings and chat alike). */
  inFlight = 0;
  maxInFlight = 0;
  /** Every chat completion request, in arrival order. */
  readonly chatRequests: ChatRequestLog[] = [];
  /** Scripted chat answers, one shifted per request; `defaultChat` when empty. */
  chat: ChatScript[] = [];
  defaultChat: ChatScript = DEFAULT_CHAT;
  /** When set, decides every chat answer (takes precedence over `chat`). */
  chatHandler?: ((req: ChatRequestLog) => ChatScript) | undefined;
  /** Every moderation request, in arrival order. */
  readonly moderationRequests: ModerationRequestLog[] = [];
  /** Scripted moderation answers, one shifted per request; `defaultModeration` (not flagged) when empty. */
  moderation: ModerationScript[] = [];
  defaultModeration: ModerationScript = DEFAULT_MODERATION;
  /** When set, decides every moderation answer (takes precedence over `moderation`). */
  moderationHandler?: ((req: ModerationRequestLog) => ModerationScript) | undefined;
  /** `GET /models` calls (the responder's start-up probe), and the status they get (200: the model list). */
  modelsCalls = 0;
  modelsStatus = 200;
  private server: Server | undefined;
  private hung: ServerResponse[] = [];
  /** Connections that never carried a request (undici opens one after an aborted request): stop() closes them. */
  private unused = new Set<Socket>();

  constructor(readonly dimension = 64) {}

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      this.unused.delete(req.socket);
      void this.handle(req, res);
    });
    this.server.on('connection', (socket: Socket) => {
      this.unused.add(socket);
      socket.once('close', () => this.unused.delete(socket));
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}/v1`;
  }

  async stop(): Promise<void> {
    for (const res of this.hung) res.destroy();
    this.hung = [];
    for (const socket of this.unused) socket.destroy();
    this.unused.clear();
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    const closed = new Promise<void>((r) => server.close(() => r()));
    server.closeIdleConnections();
    await closed;
  }

  /** The most recent chat completion request. */
  lastChat(): ChatRequestLog | undefined {
    return this.chatRequests.at(-1);
  }

  /** @internal Hold a response open (hang / stalled stream) until stop(). */
  hold(res: ServerResponse): void {
    this.hung.push(res);
  }

  /** Deterministic unit-ish vector for a text: same text, same vector. */
  vectorFor(text: string, dimension = this.dimension): number[] {
    let h = 2166136261;
    const v: number[] = [];
    for (let i = 0; i < dimension; i++) {
      for (const c of `${i}:${text}`) h = Math.imul(h ^ c.charCodeAt(0), 16777619);
      v.push(((h >>> 0) / 2 ** 32) * 2 - 1);
    }
    return v;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = req.url?.split('?')[0] ?? '';
    if (req.method === 'POST' && path.endsWith('/chat/completions')) {
      let body = '';
      for await (const chunk of req) body += chunk;
      return serveChat(this, req, res, body);
    }
    if (req.method === 'POST' && path.endsWith('/moderations')) {
      let body = '';
      for await (const chunk of req) body += chunk;
      return serveModeration(this, req, res, body);
    }
    if (req.method === 'GET' && path.endsWith('/models')) {
      this.modelsCalls++;
      const body = this.modelsStatus === 200 ? { object: 'list', data: [{ id: 'local-model', object: 'model', created: 0, owned_by: 'fake' }] } : { error: { message: 'Incorrect API key provided', type: 'invalid_request_error', code: 'invalid_api_key' } };
      res.writeHead(this.modelsStatus, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      return;
    }
    if (req.method !== 'POST' || !req.url?.endsWith('/embeddings')) {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'not found' } }));
      return;
    }
    let body = '';
    for await (const chunk of req) body += chunk;
    const payload = JSON.parse(body) as { input: string | string[]; model: string; dimensions?: number; encoding_format?: string };
    const inputs = Array.isArray(payload.input) ? payload.input : [payload.input];
    const log: EmbeddingRequestLog = { at: Date.now(), inputs, model: payload.model, dimensions: payload.dimensions, encoding: payload.encoding_format, status: 200, path: req.url ?? '' };
    this.requests.push(log);
    const fault = this.faults.shift();
    if (fault && 'hang' in fault) {
      this.hung.push(res);
      return;
    }
    if (fault) {
      log.status = fault.status;
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if ('retryAfter' in fault && fault.retryAfter) headers['retry-after'] = fault.retryAfter;
      res.writeHead(fault.status, headers).end(JSON.stringify({ error: { message: `injected ${fault.status}`, type: 'fake' } }));
      return;
    }
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    this.inFlight--;
    const dimension = payload.dimensions ?? this.dimension;
    const data = inputs.map((text, index) => {
      const vector = this.vectorFor(text, dimension);
      const embedding = payload.encoding_format === 'base64' ? Buffer.from(Float32Array.from(vector).buffer).toString('base64') : vector;
      return { object: 'embedding', index, embedding };
    });
    res.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({ object: 'list', data, model: payload.model, usage: { prompt_tokens: inputs.length, total_tokens: inputs.length } }),
    );
  }
}
