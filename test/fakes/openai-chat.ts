/**
 * Chat Completions half of the fake OpenAI server (test fixture, never product
 * code): POST …/chat/completions, non-streamed JSON or Server-Sent Events
 * exactly as OpenAI sends them, scripted per request.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export type ChatFinishReason = 'stop' | 'length' | 'content_filter';

export type ChatScript =
  | {
      content: string;
      /** Stream piece size in characters (default 8). */
      chunkChars?: number;
      /** Pause between streamed pieces (default 0). */
      chunkDelayMs?: number;
      /** Pause before the response starts (default 0). */
      delayMs?: number;
      finishReason?: ChatFinishReason;
      usage?: { prompt_tokens: number; completion_tokens: number };
      /** Stream only: stop after this many content chars and hold the connection open until stop(). */
      stallAfterChars?: number;
    }
  | { status: 429; retryAfter?: string; retryAfterMs?: string }
  | { status: 400 | 500 | 502 | 503 }
  | { hang: true }
  | { raw: string; contentType?: string };

export interface ChatRequestLog {
  at: number;
  /** Request path, e.g. /v1/chat/completions. */
  path: string;
  model: string;
  /** Messages exactly as sent. */
  messages: unknown[];
  stream: boolean;
  responseFormat: unknown;
  /** max_completion_tokens ?? max_tokens. */
  maxTokens: number | undefined;
  /** Status answered: 200, the scripted error status, or 0 for a hang. */
  status: number;
  /** Request headers (Node lower-cases names; repeated headers joined with ", "). */
  headers: Record<string, string>;
  /** The full parsed request body, for anything not broken out above (temperature, stream_options…). */
  body: Record<string, unknown>;
}

export const DEFAULT_CHAT: ChatScript = { content: '{"criteria_met":[],"action":"x","reply":"Hello."}' };

/** What the server class exposes to the chat handler. */
export interface ChatHost {
  chatRequests: ChatRequestLog[];
  chat: ChatScript[];
  defaultChat: ChatScript;
  chatHandler?: ((req: ChatRequestLog) => ChatScript) | undefined;
  inFlight: number;
  maxInFlight: number;
  /** Register a response held open (hang / stall) so stop() can destroy it. */
  hold(res: ServerResponse): void;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const roughTokens = (chars: number) => Math.max(1, Math.ceil(chars / 4));

function messageChars(messages: unknown[]): number {
  let n = 0;
  for (const m of messages) {
    const content = (m as { content?: unknown } | null)?.content;
    n += typeof content === 'string' ? content.length : content == null ? 0 : JSON.stringify(content).length;
  }
  return n;
}

function sendError(res: ServerResponse, status: number, message: string, extra: Record<string, string> = {}): void {
  const type = status === 429 ? 'rate_limit_exceeded' : status === 400 ? 'invalid_request_error' : 'server_error';
  res
    .writeHead(status, { 'content-type': 'application/json', ...extra })
    .end(JSON.stringify({ error: { message, type, param: null, code: status === 429 ? 'rate_limit_exceeded' : null } }));
}

export async function serveChat(host: ChatHost, req: IncomingMessage, res: ServerResponse, rawBody: string): Promise<void> {
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(rawBody) as Record<string, unknown>;
  } catch {
    sendError(res, 400, 'We could not parse the JSON body of your request.');
    return;
  }
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  const maxTokens = body.max_completion_tokens ?? body.max_tokens;
  const log: ChatRequestLog = {
    at: Date.now(),
    path: req.url ?? '',
    model: String(body.model ?? ''),
    messages: Array.isArray(body.messages) ? body.messages : [],
    stream: body.stream === true,
    responseFormat: body.response_format,
    maxTokens: typeof maxTokens === 'number' ? maxTokens : undefined,
    status: 200,
    headers,
    body,
  };
  host.chatRequests.push(log);
  const script = host.chatHandler ? host.chatHandler(log) : (host.chat.shift() ?? host.defaultChat);

  if ('hang' in script) {
    log.status = 0;
    host.hold(res);
    return;
  }
  if ('raw' in script) {
    res.writeHead(200, { 'content-type': script.contentType ?? 'application/json' }).end(script.raw);
    return;
  }
  if ('status' in script) {
    log.status = script.status;
    const extra: Record<string, string> = {};
    if ('retryAfter' in script && script.retryAfter !== undefined) extra['retry-after'] = script.retryAfter;
    if ('retryAfterMs' in script && script.retryAfterMs !== undefined) extra['retry-after-ms'] = script.retryAfterMs;
    sendError(res, script.status, `injected ${script.status}`, extra);
    return;
  }

  host.inFlight++;
  host.maxInFlight = Math.max(host.maxInFlight, host.inFlight);
  let counted = true;
  const release = () => {
    if (counted) host.inFlight--;
    counted = false;
  };
  res.on('close', release);
  try {
    await answer(host, log, script, res);
  } finally {
    if (res.writableEnded) release();
  }
}

type ContentScript = Extract<ChatScript, { content: string }>;

async function answer(host: ChatHost, log: ChatRequestLog, script: ContentScript, res: ServerResponse): Promise<void> {
  if (script.delayMs) await sleep(script.delayMs);
  if (res.destroyed) return;
  const id = `chatcmpl-fake${Math.random().toString(36).slice(2, 12)}`;
  const created = Math.floor(Date.now() / 1000);
  const finish_reason = script.finishReason ?? 'stop';
  const prompt_tokens = script.usage?.prompt_tokens ?? roughTokens(messageChars(log.messages));
  const completion_tokens = script.usage?.completion_tokens ?? roughTokens(script.content.length);
  const usage = { prompt_tokens, completion_tokens, total_tokens: prompt_tokens + completion_tokens };

  if (!log.stream) {
    res.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        id,
        object: 'chat.completion',
        created,
        model: log.model,
        choices: [{ index: 0, message: { role: 'assistant', content: script.content, refusal: null }, finish_reason, logprobs: null }],
        usage,
        system_fingerprint: null,
      }),
    );
    return;
  }

  const includeUsage = (log.body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true;
  const base = { id, object: 'chat.completion.chunk', created, model: log.model, system_fingerprint: null };
  const event = (choices: unknown[], extra: Record<string, unknown> = includeUsage ? { usage: null } : {}) =>
    `data: ${JSON.stringify({ ...base, choices, ...extra })}\n\n`;
  const write = (s: string) => !res.destroyed && res.write(s);

  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  write(event([{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }]));
  const size = Math.max(1, script.chunkChars ?? 8);
  const limit = script.stallAfterChars ?? Infinity;
  let sent = 0;
  while (sent < script.content.length) {
    if (script.chunkDelayMs) await sleep(script.chunkDelayMs);
    if (res.destroyed) return;
    const piece = script.content.slice(sent, Math.min(sent + size, limit));
    if (piece) write(event([{ index: 0, delta: { content: piece }, logprobs: null, finish_reason: null }]));
    sent += piece.length;
    if (sent >= limit) {
      host.hold(res);
      return;
    }
  }
  if (res.destroyed) return;
  write(event([{ index: 0, delta: {}, logprobs: null, finish_reason }]));
  if (includeUsage) write(event([], { usage }));
  write('data: [DONE]\n\n');
  res.end();
}
