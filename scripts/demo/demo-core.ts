/**
 * What the two platform demos share (a developer tool, never product code: it imports test
 * fakes). The engine is built as `npm start` builds it (createEngine), but from an environment
 * stripped of every token and remote URL, so a demo never needs an account or the network;
 * with `--llm` a local fake OpenAI-compatible server stands in for the model.
 */
import { Command } from 'commander';
import { pino } from 'pino';
import { ConfigError, IndexMismatchError, StoreUnavailableError, createEngine, settingsOrReport, type Engine, type EngineSetup, type Settings } from '../../src/index.js';
import { FakeOpenAi } from '../../test/fakes/openai-server.js';
import { demoModel } from './demo-model.js';

/** The demos' exit codes (the same meanings as `npm start`'s). */
export const EXIT = { ok: 0, error: 1, usage: 2, config: 3, redis: 4 } as const;

export const EXIT_CODES_HELP = `
Exit codes: 0 end of input (or :quit, Ctrl+C, Ctrl+D), 1 unexpected error, 2 invalid options or
settings, 3 invalid config or retrieval index, 4 REDIS_URL set but Redis unreachable.`;

/** Longest wait for the bot's reply to one message before the next is sent anyway. */
export const REPLY_DEADLINE_MS = 60_000;

export const LLM_OPTION_HELP = 'also start a local fake OpenAI-compatible model, so replies stream in as edits';

export interface DemoOptions {
  llm: boolean;
}

/** `--help` with the exit codes, and the exit code for bad usage (2, not commander's 1). */
export function demoProgram(name: string, description: string, usage: string): Command {
  return new Command()
    .name(name)
    .description(description)
    .addHelpText('after', `${usage}${EXIT_CODES_HELP}`)
    .exitOverride((err) => process.exit(err.exitCode === 0 ? EXIT.ok : EXIT.usage))
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
}

/** 40 ms, 1.3 s: a duration as a person reads it. */
export function duration(ms: number): string {
  return ms < 1000 ? `${Math.max(0, Math.round(ms))} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** Waits for `p`, but no longer than `ms` (a shutdown step that must not hang the demo). */
export async function within(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p.catch(() => undefined), new Promise((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}

/**
 * The environment the demo's engine sees: the caller's (so REDIS_URL, LOG_LEVEL and the like
 * still apply) without platform tokens and without any OpenAI key or URL, which would reach a
 * real service. Redis keys get a prefix of their own unless one is set.
 */
export function demoEnv(env: NodeJS.ProcessEnv, llmBaseUrl: string | undefined): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(env)) if (!/^(SLACK_|DISCORD_|OPENAI_)/.test(k) && v !== '') out[k] = v;
  out.EMBEDDINGS_PROVIDER = 'local';
  out.MODERATION = 'off';
  out.RESPONDER = llmBaseUrl ? 'llm' : 'offline';
  if (llmBaseUrl) out.OPENAI_BASE_URL = llmBaseUrl;
  out.REDIS_KEY_PREFIX ??= 'trt-demo';
  return out;
}

export interface DemoEngine {
  setup: EngineSetup;
  settings: Settings;
  logger: pino.Logger;
  close(): Promise<void>;
}

/** Starts the fake model (with --llm) and the engine; returns an exit code when either cannot start. */
export async function startDemoEngine(opts: DemoOptions): Promise<DemoEngine | number> {
  const model = opts.llm ? new FakeOpenAi() : undefined;
  const baseUrl = await model?.start();
  const settings = settingsOrReport(demoEnv(process.env, baseUrl), (m) => process.stderr.write(m));
  if (!settings) {
    await model?.stop();
    return EXIT.usage;
  }
  // Logs (warnings only, unless LOG_LEVEL says otherwise) on stderr: stdout is the conversation.
  const logger = pino({ level: settings.LOG_LEVEL ?? 'warn', base: { app: 'trt-guide-bot-demo' } }, pino.destination(2));
  let setup: EngineSetup;
  try {
    setup = await createEngine(settings, logger);
  } catch (err) {
    await model?.stop();
    if (err instanceof ConfigError || err instanceof IndexMismatchError) {
      process.stderr.write(`${err.message}\n`);
      return EXIT.config;
    }
    if (err instanceof StoreUnavailableError) {
      process.stderr.write(`demo: ${err.message}\n`);
      return EXIT.redis;
    }
    throw err;
  }
  if (model) model.chatHandler = demoModel(setup.config);
  return {
    setup,
    settings,
    logger,
    async close() {
      await setup.close();
      await model?.stop();
    },
  };
}

/** One line about what runs behind the demo, for the banner. */
export function backendsLine(engine: Engine, llm: boolean): string {
  const b = engine.backends;
  return `store: ${b.store} | responder: ${llm ? 'LLM (a local fake model, streamed)' : b.responder} | crisis check: ${b.crisis}`;
}

type HandleTurn = Engine['handleTurn'];

/**
 * Knows when the bot has answered: the in-process queue reports each reply (`metrics.replied`),
 * and the wrapped engine the turns that end without one. The prompt sends the next message only
 * then, so piped input reads like a conversation, one reply per message.
 */
export class ReplyTracker {
  private sent = 0;
  private done = 0;
  private waiters: Array<{ target: number; resolve: (ok: boolean) => void }> = [];

  constructor(private readonly onReplied: (latencyMs: number) => void) {}

  /** For the adapter's deps: the default queue calls `replied` once a turn's reply is out. */
  readonly metrics = {
    replied: (e: { platform: string; latencyMs: number }) => {
      this.onReplied(e.latencyMs);
      this.finish((e as { messages?: number }).messages ?? 1);
    },
    duplicate: () => undefined,
  };

  /** The engine as the adapter sees it, telling the tracker of turns that end with no reply. */
  wrap(engine: Engine): Pick<Engine, 'handleTurn' | 'texts' | 'crisisResponse' | 'noteLateDelivery'> {
    const finish = (n: number) => this.finish(n);
    return {
      handleTurn: async (...args: Parameters<HandleTurn>) => {
        const result = await engine.handleTurn(...args);
        if (result.outcome === 'ignored' || result.outcome === 'record_failed') finish(args[0].parts?.length ?? 1);
        return result;
      },
      get texts() {
        return engine.texts;
      },
      crisisResponse: (text: string) => engine.crisisResponse(text),
      noteLateDelivery: (sessionId: string) => engine.noteLateDelivery(sessionId),
    };
  }

  /** Counts one message sent; resolves true once every message sent so far is answered, false at the deadline. */
  async sentOne(deadlineMs = REPLY_DEADLINE_MS): Promise<boolean> {
    const target = ++this.sent;
    if (this.done >= target) return true;
    let timer: NodeJS.Timeout | undefined;
    const answered = new Promise<boolean>((resolve) => this.waiters.push({ target, resolve }));
    const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), deadlineMs)));
    const ok = await Promise.race([answered, late]);
    clearTimeout(timer);
    // A turn that never reported (redone, or lost) must not hold up the ones after it.
    if (!ok) this.done = Math.max(this.done, target);
    return ok;
  }

  private finish(messages: number): void {
    this.done += messages;
    for (const w of this.waiters) if (this.done >= w.target) w.resolve(true);
    this.waiters = this.waiters.filter((w) => this.done < w.target);
  }
}
