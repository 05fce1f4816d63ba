/**
 * Moderations half of the fake OpenAI server (test fixture, never product code):
 * POST …/moderations answered in the real response shape (`id`, `model`, one result per
 * input with every category, its score and, for omni models, the input types it applies
 * to), scripted per request: flagged categories, an error status, a hang, a body that
 * stalls after the headers, or a raw (malformed) body.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Every category the moderation endpoint reports, in its order. */
export const MODERATION_CATEGORIES = [
  'harassment',
  'harassment/threatening',
  'hate',
  'hate/threatening',
  'illicit',
  'illicit/violent',
  'self-harm',
  'self-harm/instructions',
  'self-harm/intent',
  'sexual',
  'sexual/minors',
  'violence',
  'violence/graphic',
] as const;

export type ModerationCategory = (typeof MODERATION_CATEGORIES)[number];

export type ModerationScript =
  /** An answer with these categories true (none: not flagged). */
  | { flag: ModerationCategory[]; delayMs?: number }
  | { status: 400 | 401 | 404 | 429 | 500 | 502 | 503; retryAfter?: string }
  /** Never answers (held open until stop()). */
  | { hang: true }
  /** Sends 200 and the headers, then nothing more (held open until stop()). */
  | { stallBody: true }
  | { raw: string; contentType?: string };

export interface ModerationRequestLog {
  at: number;
  /** Request path, e.g. /v1/moderations. */
  path: string;
  model: string | undefined;
  /** `input` exactly as sent. */
  input: unknown;
  /** Status answered: 200, the scripted error status, or 0 for a hang. */
  status: number;
  headers: Record<string, string>;
  /** The client closed the connection before the answer was complete (an aborted request). */
  abandoned: boolean;
  /** Resolves when the connection closes, however it ends. */
  closed: Promise<void>;
}

/** Not flagged. */
export const DEFAULT_MODERATION: ModerationScript = { flag: [] };

export interface ModerationHost {
  moderationRequests: ModerationRequestLog[];
  moderation: ModerationScript[];
  defaultModeration: ModerationScript;
  moderationHandler?: ((req: ModerationRequestLog) => ModerationScript) | undefined;
  hold(res: ServerResponse): void;
}

/** One result in the API's shape: every category present, scores high for the flagged ones. */
export function moderationResult(flag: readonly string[], model: string): Record<string, unknown> {
  const categories: Record<string, boolean> = {};
  const scores: Record<string, number> = {};
  const types: Record<string, string[]> = {};
  for (const c of MODERATION_CATEGORIES) {
    categories[c] = flag.includes(c);
    scores[c] = flag.includes(c) ? 0.93 : 0.0001;
    types[c] = ['text']; // text input only: every category was applied to text
  }
  return {
    flagged: flag.length > 0,
    categories,
    category_scores: scores,
    // Only the omni models report which input types each category was applied to.
    ...(model.startsWith('omni-') ? { category_applied_input_types: types } : {}),
  };
}

export async function serveModeration(host: ModerationHost, req: IncomingMessage, res: ServerResponse, rawBody: string): Promise<void> {
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(rawBody) as Record<string, unknown>;
  } catch {
    res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'We could not parse the JSON body of your request.', type: 'invalid_request_error', param: null, code: null } }));
    return;
  }
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  let closed!: () => void;
  const log: ModerationRequestLog = {
    at: Date.now(),
    path: req.url ?? '',
    model: typeof body.model === 'string' ? body.model : undefined,
    input: body.input,
    status: 200,
    headers,
    abandoned: false,
    closed: new Promise<void>((r) => (closed = r)),
  };
  res.on('close', () => {
    if (!res.writableFinished) log.abandoned = true;
    closed();
  });
  host.moderationRequests.push(log);
  const script = host.moderationHandler ? host.moderationHandler(log) : (host.moderation.shift() ?? host.defaultModeration);

  if ('hang' in script) {
    log.status = 0;
    host.hold(res);
    return;
  }
  if ('stallBody' in script) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"id":"modr-');
    host.hold(res);
    return;
  }
  if ('raw' in script) {
    res.writeHead(200, { 'content-type': script.contentType ?? 'application/json' }).end(script.raw);
    return;
  }
  if ('status' in script) {
    log.status = script.status;
    const type = script.status === 429 ? 'rate_limit_exceeded' : script.status >= 500 ? 'server_error' : 'invalid_request_error';
    res
      .writeHead(script.status, { 'content-type': 'application/json', ...(script.retryAfter ? { 'retry-after': script.retryAfter } : {}) })
      .end(JSON.stringify({ error: { message: `injected ${script.status}`, type, param: null, code: null } }));
    return;
  }
  if (script.delayMs) await new Promise((r) => setTimeout(r, script.delayMs));
  if (res.destroyed) return;
  const model = log.model ?? 'omni-moderation-latest';
  const inputs = Array.isArray(body.input) ? body.input : [body.input];
  res.writeHead(200, { 'content-type': 'application/json' }).end(
    JSON.stringify({
      id: `modr-fake${Math.random().toString(36).slice(2, 12)}`,
      model,
      results: inputs.map(() => moderationResult(script.flag, model)),
    }),
  );
}
