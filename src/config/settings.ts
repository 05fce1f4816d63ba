/**
 * Runtime settings from the environment, validated once at start-up and
 * defaulted here, in one place. The caller passes the environment in (the
 * engine never reads the environment itself). Every problem is reported, one per line.
 */
import { z } from 'zod';

const int = (def: number, min: number, max: number) => z.coerce.number().int().min(min).max(max).default(def);

export const SettingsSchema = z.object({
  /** Folder holding system/core_system/*.json. */
  CONFIG_DIR: z.string().min(1).default('config'),
  /** Folder holding state_actions/ and embeddings/. */
  DATA_DIR: z.string().min(1).default('data'),
  /** Messages longer than this get a polite reply and are not processed. */
  MAX_MESSAGE_CHARS: int(4000, 100, 100_000),
  /** Embedder for retrieval: `local` (no network) or `openai` (any OpenAI-compatible server). */
  EMBEDDINGS_PROVIDER: z.enum(['local', 'openai']).default('local'),
  /** Key for the OpenAI API (embeddings now; the LLM responder later). */
  OPENAI_API_KEY: z.string().min(1).optional(),
  /** Base URL of an OpenAI-compatible server (Ollama, vLLM, LocalAI...). */
  OPENAI_BASE_URL: z.string().url().optional(),
  /** History entries kept per session. */
  HISTORY_MAX: int(200, 10, 10_000),
  /** Sessions idle this long are deleted (retention). */
  SESSION_TTL_DAYS: int(30, 1, 3650),
  /** pino level; unset: info, or warn in the terminal chat. */
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional(),
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
        const shown = /KEY|TOKEN|SECRET|PASSWORD/.test(name) ? '(hidden)' : JSON.stringify(cleaned[name]);
        return `${i.path.join('.')}: ${i.message} (got ${shown})`;
      }),
    );
  }
  const problems = crossCheck(result.data);
  if (problems.length > 0) throw new SettingsError(problems);
  return result.data;
}
