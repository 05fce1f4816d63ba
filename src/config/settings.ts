/**
 * Runtime settings from the environment, validated once at start-up and
 * defaulted here, in one place. The caller passes the environment in (the
 * engine never reads the environment itself). Every problem is reported, one per line.
 */
import { z } from 'zod';

const int = (def: number, min: number, max: number) => z.coerce.number().int().min(min).max(max).default(def);

/** The moderation defaults, here with the others (OpenAiModeration uses them too). */
export const MODERATION_DEFAULT_MODEL = 'omni-moderation-latest';
export const MODERATION_DEFAULT_TIMEOUT_MS = 1500;

export const SettingsSchema = z.object({
  /** Folder holding system/core_system/*.json. */
  CONFIG_DIR: z.string().min(1).default('config'),
  /** Folder holding state_actions/ and embeddings/. */
  DATA_DIR: z.string().min(1).default('data'),
  /** Messages longer than this get a polite reply and are not processed. */
  MAX_MESSAGE_CHARS: int(4000, 100, 100_000),
  /** Embedder for retrieval: `local` (no network) or `openai` (any OpenAI-compatible server). */
  EMBEDDINGS_PROVIDER: z.enum(['local', 'openai']).default('local'),
  /** Key for the OpenAI API: with it, replies come from the LLM (and EMBEDDINGS_PROVIDER=openai can embed). */
  OPENAI_API_KEY: z.string().min(1).optional(),
  /** Base URL of an OpenAI-compatible server (Ollama, vLLM, LocalAI...): with it, replies come from that server. */
  OPENAI_BASE_URL: z.string().url().optional(),
  /** `auto`: the LLM when OPENAI_API_KEY or OPENAI_BASE_URL is set, else offline; `llm` or `offline` to choose. */
  RESPONDER: z.enum(['auto', 'llm', 'offline']).default('auto'),
  /** The chat model. */
  OPENAI_MODEL: z.string().min(1).default('gpt-4o-mini'),
  /** Longest a person waits for the model, retries included, before the offline line (at most 50: a turn holds its session lock for up to 60 s). */
  OPENAI_TIMEOUT_SECONDS: int(20, 1, 50),
  /** Retries after a 429, a 5xx or a dropped connection (within the timeout). */
  OPENAI_MAX_RETRIES: int(2, 0, 10),
  /** The model's context window in tokens: the prompt plus the reply never exceed it. */
  OPENAI_CONTEXT_TOKENS: int(8192, 1024, 10_000_000),
  /** `json_schema` (structured outputs) or `json_object` for servers without schema support. */
  OPENAI_RESPONSE_FORMAT: z.enum(['json_schema', 'json_object']).default('json_schema'),
  /** Stream replies into Slack and Discord as they are generated (a message edited in place). */
  LLM_STREAM: z.enum(['true', 'false']).default('true'),
  /**
   * OpenAI's moderation endpoint as a further opinion on self-harm risk, beside the offline crisis
   * check: `auto` (on when OPENAI_API_KEY is set; a base URL alone leaves it off, local servers have
   * no moderation endpoint), `on` or `off`.
   */
  MODERATION: z.enum(['auto', 'on', 'off']).default('auto'),
  /** The moderation model. */
  MODERATION_MODEL: z.string().min(1).default(MODERATION_DEFAULT_MODEL),
  /** Longest a moderation check may take (no retries); after it, no opinion. */
  MODERATION_TIMEOUT_MS: int(MODERATION_DEFAULT_TIMEOUT_MS, 100, 10_000),
  /** Seconds an LLM answer stays cached in Redis per session; 0 (default) turns the cache off (prompts hold health data). */
  LLM_CACHE_TTL_SECONDS: int(0, 0, 30 * 86_400),
  /** History entries kept per session. */
  HISTORY_MAX: int(200, 10, 10_000),
  /** Sessions idle this long are deleted (retention). */
  SESSION_TTL_DAYS: int(30, 1, 3650),
  /** Redis for sessions: redis://[user:password@]host:port[/db], rediss:// for TLS. Unset: in-memory sessions. */
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must start with redis:// or rediss://').optional(),
  /** Redis Cluster seed nodes, host:port,host:port (REDIS_URL then only supplies user and password). */
  REDIS_CLUSTER_NODES: z.string().regex(/^[^,\s]+:\d+(,[^,\s]+:\d+)*$/, 'must be host:port,host:port').optional(),
  /** Redis Sentinel nodes, host:port,host:port. */
  REDIS_SENTINELS: z.string().regex(/^[^,\s]+:\d+(,[^,\s]+:\d+)*$/, 'must be host:port,host:port').optional(),
  /** The Sentinel master group name. */
  REDIS_SENTINEL_NAME: z.string().min(1).default('mymaster'),
  /** Prefix of every Redis key. */
  REDIS_KEY_PREFIX: z.string().regex(/^[A-Za-z0-9_.-]{1,32}$/, 'letters, digits, "_", "." or "-"').default('trt'),
  /** A Redis command waiting longer fails; the turn then answers "try again shortly". */
  REDIS_COMMAND_TIMEOUT_MS: int(2000, 100, 60_000),
  /** Per-session lock lifetime (extended while a turn runs; short so a crashed instance frees it). */
  SESSION_LOCK_TTL_MS: int(3_000, 1000, 300_000),
  /** 32 bytes, base64: encrypts stored message text (AES-256-GCM). Unset: stored as plain text. */
  HISTORY_ENCRYPTION_KEY: z.string().optional(),
  /** The previous key during a rotation: still decrypts, never encrypts. */
  HISTORY_ENCRYPTION_KEY_PREVIOUS: z.string().optional(),
  /** Slack bot token (xoxb-...): with it, `npm start` runs the Slack adapter. */
  SLACK_BOT_TOKEN: z.string().startsWith('xoxb-', 'must start with xoxb-').optional(),
  /** Slack signing secret: verifies every HTTP request (HTTP mode). */
  SLACK_SIGNING_SECRET: z.string().min(1).optional(),
  /** Slack app-level token (xapp-...): switches to Socket Mode. */
  SLACK_APP_TOKEN: z.string().startsWith('xapp-', 'must start with xapp-').optional(),
  /** Slack Web API base URL (tests, proxies, Enterprise Grid gateways), ending in /api/. */
  SLACK_API_URL: z.string().url().optional(),
  /** Answer mentions in channels (threads are visible to channel members), or refuse them. */
  SLACK_CHANNELS: z.enum(['allow', 'refuse']).default('allow'),
  /** Discord bot token: with it, `npm start` runs the Discord adapter. */
  DISCORD_BOT_TOKEN: z.string().min(20).optional(),
  /** Discord REST base URL (tests, proxies), e.g. http://127.0.0.1:8080/api. */
  DISCORD_API_URL: z.string().url().optional(),
  /** Shard ids this process runs, comma-separated (e.g. 0,1), with DISCORD_SHARD_COUNT. */
  DISCORD_SHARDS: z.string().regex(/^\d+(,\d+)*$/, 'comma-separated shard ids, e.g. 0,1').optional(),
  /** Total number of shards across all processes. */
  DISCORD_SHARD_COUNT: z.coerce.number().int().min(1).max(10_000).optional(),
  /** Sessions one worker answers at once (each is one turn at a time). */
  QUEUE_CONCURRENCY: int(32, 1, 1024),
  /** A turn whose worker stopped renewing it this long (it died) is taken over by another worker. */
  QUEUE_CLAIM_IDLE_MS: int(3_000, 200, 600_000),
  /** Ownership of a session's inbox lapses this long after its worker stops renewing it; below QUEUE_CLAIM_IDLE_MS. */
  QUEUE_OWNER_TTL_MS: int(1_500, 100, 300_000),
  /** A turn starts no sooner than this after its newest message was sent (platform clock), so messages typed just before it are answered with it, in order. 0: at once. */
  QUEUE_ORDER_WINDOW_MS: int(250, 0, 5_000),
  /** On SIGTERM, how long running turns may finish before they are handed to another instance. */
  SHUTDOWN_TIMEOUT_MS: int(10_000, 0, 600_000),
  /** On SIGTERM, how long /readyz answers 503 while the instance still receives, before it stops (behind a load balancer: a few health-check intervals). */
  SHUTDOWN_DRAIN_MS: int(0, 0, 120_000),
  /** Safety alerts' default destinations (a tenant's `safety_alert` in tenants.json wins): a Slack channel id the bot is in. */
  SAFETY_ALERT_SLACK_CHANNEL: z.string().regex(/^[CG][A-Z0-9]{6,}$/, 'a Slack channel id such as C0123ABCD').optional(),
  /** A Discord channel id (in the server the bot is in) for safety alerts. */
  SAFETY_ALERT_DISCORD_CHANNEL: z.string().regex(/^\d{17,20}$/, 'a Discord channel id (17 to 20 digits)').optional(),
  /** An http(s) URL that receives each safety alert as signed JSON (docs/safety-alerts.md). */
  SAFETY_ALERT_WEBHOOK_URL: z.string().url().refine((u) => /^https?:\/\//.test(u), 'an http(s) URL').optional(),
  /** Signs every safety-alert webhook body, the tenants' webhooks included (HMAC-SHA256 of "<timestamp>.<body>", header x-trt-signature). */
  SAFETY_ALERT_WEBHOOK_SECRET: z.string().min(16, 'at least 16 characters').optional(),
  /** Who the person is told was let know ("I've let <team> know…"), unless the tenant names its own team. */
  SAFETY_ALERT_TEAM_NAME: z.string().min(1).max(80).optional(),
  /** A safety alert a worker has claimed is held this long before another worker may send it (the first one died). Above the webhook timeout (10 s). */
  SAFETY_ALERT_LEASE_MS: int(30_000, 1_000, 600_000),
  /** While nobody has taken a safety alert, remind its destinations this many minutes after it, and as long again after each reminder (three at most); 0: no reminders. A tenant's `remind_after_minutes` wins. */
  SAFETY_ALERT_REMIND_MINUTES: int(10, 0, 1_440),
  /** A check-in a worker has claimed is held this long before another worker may post it (the first one died). Above a post's time (Slack and Discord calls retry for up to about 30 s). */
  CHECKIN_LEASE_MS: int(60_000, 1_000, 600_000),
  /** How often each worker looks for check-ins that are due. */
  CHECKIN_POLL_MS: int(1_000, 50, 60_000),
  /** HTTP port (Slack events at /slack/events). */
  PORT: int(3000, 0, 65_535),
  /** pino level; unset: info, or warn in the terminal chat. */
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional(),
  /** Log to this file (appended) instead of stderr; unset: stderr, except the interactive terminal chat on a terminal, which logs to `trt-guide-bot.log` so no log line lands between the person's lines. */
  LOG_FILE: z.string().min(1).optional(),
  /** `true` puts what people wrote and the replies into the debug log line of each turn (health data: for local debugging only; a warning is logged at start). */
  LOG_MESSAGE_TEXT: z.enum(['true', 'false']).default('false'),
  /** The terminal chat's user (session id `console:<user>`); default: the OS user name. */
  CONSOLE_USER: z
    .string()
    .regex(/^[A-Za-z0-9._@-]{1,64}$/, 'letters, digits, ".", "_", "@" or "-", at most 64')
    .optional(),
});

export type Settings = z.infer<typeof SettingsSchema>;

/** Problems that involve more than one variable. */
function crossCheck(s: Settings): string[] {
  const out: string[] = [];
  for (const name of ['HISTORY_ENCRYPTION_KEY', 'HISTORY_ENCRYPTION_KEY_PREVIOUS'] as const) {
    const v = s[name];
    if (v !== undefined && Buffer.from(v, 'base64').length !== 32) out.push(`${name}: must be 32 bytes, base64-encoded (e.g. \`openssl rand -base64 32\`)`);
  }
  if (s.HISTORY_ENCRYPTION_KEY_PREVIOUS && !s.HISTORY_ENCRYPTION_KEY) out.push('HISTORY_ENCRYPTION_KEY_PREVIOUS: set only together with HISTORY_ENCRYPTION_KEY');
  if ((s.REDIS_CLUSTER_NODES ? 1 : 0) + (s.REDIS_SENTINELS ? 1 : 0) > 1) out.push('REDIS_CLUSTER_NODES and REDIS_SENTINELS: choose one');
  if (s.SLACK_BOT_TOKEN && !s.SLACK_APP_TOKEN && !s.SLACK_SIGNING_SECRET) {
    out.push('SLACK_SIGNING_SECRET: required with SLACK_BOT_TOKEN in HTTP mode (or set SLACK_APP_TOKEN for Socket Mode)');
  }
  if (s.QUEUE_OWNER_TTL_MS * 2 > s.QUEUE_CLAIM_IDLE_MS) out.push('QUEUE_OWNER_TTL_MS: must be at most half of QUEUE_CLAIM_IDLE_MS (a dead worker\'s ownership lapses before its turn is taken over)');
  if (s.DISCORD_SHARDS && !s.DISCORD_SHARD_COUNT) out.push('DISCORD_SHARD_COUNT: required with DISCORD_SHARDS');
  if (s.DISCORD_SHARDS && s.DISCORD_SHARD_COUNT && s.DISCORD_SHARDS.split(',').some((id) => Number(id) >= s.DISCORD_SHARD_COUNT!)) {
    out.push('DISCORD_SHARDS: every shard id must be below DISCORD_SHARD_COUNT');
  }
  if ((s.SLACK_APP_TOKEN || s.SLACK_SIGNING_SECRET) && !s.SLACK_BOT_TOKEN) out.push('SLACK_BOT_TOKEN: required with SLACK_APP_TOKEN or SLACK_SIGNING_SECRET');
  if (s.RESPONDER === 'llm' && !s.OPENAI_API_KEY && !s.OPENAI_BASE_URL) out.push('RESPONDER: "llm" needs OPENAI_API_KEY or OPENAI_BASE_URL (an OpenAI-compatible server)');
  if (s.MODERATION === 'on' && !s.OPENAI_API_KEY && !s.OPENAI_BASE_URL) out.push('MODERATION: "on" needs OPENAI_API_KEY (or OPENAI_BASE_URL of a server with a moderation endpoint)');
  if (s.LLM_CACHE_TTL_SECONDS > s.SESSION_TTL_DAYS * 86_400) out.push('LLM_CACHE_TTL_SECONDS: must not outlive the sessions (SESSION_TTL_DAYS): cached answers are health data');
  if (s.LLM_CACHE_TTL_SECONDS > 0 && !s.REDIS_URL && !s.REDIS_CLUSTER_NODES && !s.REDIS_SENTINELS) out.push('LLM_CACHE_TTL_SECONDS: the cache lives in Redis; set REDIS_URL (or leave the cache off)');
  if (s.EMBEDDINGS_PROVIDER === 'openai' && !s.OPENAI_API_KEY && !s.OPENAI_BASE_URL) {
    out.push('EMBEDDINGS_PROVIDER: "openai" needs OPENAI_API_KEY or OPENAI_BASE_URL (an OpenAI-compatible server)');
  }
  return out;
}

/** Thrown with one line per invalid setting. */
export class SettingsError extends Error {
  readonly code = 'SETTINGS_INVALID';
  constructor(readonly lines: string[]) {
    super(`Invalid settings:\n${lines.map((l) => `  ${l}`).join('\n')}`);
    this.name = 'SettingsError';
  }
}

export function loadSettings(env: Record<string, string | undefined>): Settings {
  // Empty strings mean "unset" (a blank line in .env), so defaults apply.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = SettingsSchema.safeParse(cleaned);
  if (!result.success) {
    throw new SettingsError(
      result.error.issues.map((i) => {
        const name = String(i.path[0]);
        // Never echo a secret back into a terminal or a log.
        const shown = /KEY|TOKEN|SECRET|PASSWORD|REDIS_URL/.test(name) ? '(hidden)' : JSON.stringify(cleaned[name]);
        return `${i.path.join('.')}: ${i.message} (got ${shown})`;
      }),
    );
  }
  const problems = crossCheck(result.data);
  if (problems.length > 0) throw new SettingsError(problems);
  return result.data;
}

/** For CLIs: the settings, or undefined after `report` was given every problem (exit code 2 is the CLIs' convention). */
export function settingsOrReport(env: Record<string, string | undefined>, report: (message: string) => void): Settings | undefined {
  try {
    return loadSettings(env);
  } catch (err) {
    if (!(err instanceof SettingsError)) throw err;
    report(`${err.message}\n`);
    return undefined;
  }
}
