/**
 * `npm start`: the composition root. Reads the environment once, validates
 * it, loads config, builds the engine and starts the adapter the settings
 * select (with no platform tokens: the terminal chat).
 *
 * Roles (`--role`): a receiver takes platform events and queues them; a worker
 * answers queued messages and posts replies; `all` (default) does both. With
 * Redis the queue is shared and durable, so roles may run on different machines;
 * without Redis there is one process and an in-process queue.
 *
 * Exit codes: 0 normal end, 1 unexpected error (or uncaught exceptions that kept coming,
 * see last-resort.ts), 2 invalid settings, 3 invalid config
 * or retrieval index, 4 Redis unreachable at start-up.
 */
import { Command } from 'commander';
import { userInfo } from 'node:os';
import { pino } from 'pino';
import { ConfigError, IndexMismatchError, StoreUnavailableError, createEngine, errorCode, settingsOrReport, usesRedis, type EngineSetup, type Settings } from '../src/index.js';
import { DotEnvError, describeDotEnv, loadDotEnv, type DotEnv } from './common/dotenv.js';
import type { AdapterDeps } from './common/adapter-deps.js';
import { createDiscordClient } from './discord/discord-app.js';
import { OpsRoutes, startOpsServer, type OpsServer } from './ops/ops-routes.js';
import { readinessChecks } from './ops/readiness.js';
import { createSlackApp } from './slack/slack-app.js';
import { installLastResort } from './last-resort.js';
import { startWorker } from './worker.js';
import { startAlertWorker } from './alerts.js';
import { runTerminalChat } from './terminal/terminal-chat.js';

const program = new Command()
  .name('trt-guide-bot')
  .description('A guided, body-focused self-help chat bot: Slack and/or Discord when their tokens are set, otherwise a terminal chat.')
  .option('--role <role>', 'receiver (take platform events, queue them), worker (answer queued messages) or all', 'all')
  .addHelpText(
    'after',
    `
Roles other than "all" need Redis (REDIS_URL, REDIS_CLUSTER_NODES or REDIS_SENTINELS): the queue
between receivers and workers lives there. Every worker needs the tokens of every platform it answers.

Settings come from the environment and from .env in the project folder, when there is one
(the environment wins; see .env.example and docs/configuration.md).
Piped input: one message per line, one reply per message on stdout, e.g.
  printf 'hello\\nI want to feel calm\\n' | npm start --silent

Exit codes: 0 normal end, 1 unexpected error (or more than 10 uncaught errors in a minute),
2 invalid settings, 3 invalid config or
retrieval index (the message names the rebuild command), 4 Redis unreachable at start-up.`,
  )
  .parse();

const ROLES = ['receiver', 'worker', 'all'] as const;
/** Set by the last-resort policy when errors kept coming: the process ends with 1, not 0. */
let failed = false;
type Role = (typeof ROLES)[number];

async function main(): Promise<number> {
  let dotenv: DotEnv | undefined;
  try {
    dotenv = loadDotEnv();
  } catch (err) {
    if (!(err instanceof DotEnvError)) throw err;
    process.stderr.write(`trt-guide-bot: ${err.message}\n`);
    return 2;
  }
  const settings = settingsOrReport(process.env, (m) => process.stderr.write(m));
  if (!settings) return 2;
  const role = program.opts<{ role: string }>().role as Role;
  if (!ROLES.includes(role)) {
    process.stderr.write(`trt-guide-bot: --role must be receiver, worker or all (got "${role}")\n`);
    return 2;
  }
  if (role !== 'all' && !usesRedis(settings)) {
    process.stderr.write(`trt-guide-bot: --role ${role} needs Redis (REDIS_URL, REDIS_CLUSTER_NODES or REDIS_SENTINELS): receivers and workers share the queue there\n`);
    return 2;
  }
  const slack = Boolean(settings.SLACK_BOT_TOKEN);
  const discord = Boolean(settings.DISCORD_BOT_TOKEN);
  if (role !== 'all' && !slack && !discord) {
    process.stderr.write(`trt-guide-bot: --role ${role} needs SLACK_BOT_TOKEN and/or DISCORD_BOT_TOKEN\n`);
    return 2;
  }
  const platforms = slack || discord;
  const interactive = !platforms && Boolean(process.stdin.isTTY);
  // Logs go to stderr so stdout carries only replies. The terminal chat logs warnings only unless
  // asked, and, when the chat and stderr share a terminal, to a file: a warning printed between
  // the person's lines (an LLM that stopped answering, say) breaks the conversation on screen.
  const logFile = settings.LOG_FILE ?? (interactive && process.stderr.isTTY ? 'trt-guide-bot.log' : undefined);
  const logger = pino({ level: settings.LOG_LEVEL ?? (platforms ? 'info' : 'warn'), base: { app: 'trt-guide-bot' } }, logFile ? pino.destination({ dest: logFile, append: true, mkdir: true, sync: true }) : pino.destination(2));
  // Counted once the metrics exist; logged from the start.
  let countError: ((kind: 'uncaught_exception' | 'unhandled_rejection') => void) | undefined;
  installLastResort({
    logger,
    count: (kind) => countError?.(kind),
    onTooMany: () => {
      failed = true; // exit code 1 once shut down
      process.kill(process.pid, 'SIGTERM');
    },
  });

  let setup;
  try {
    setup = await createEngine(settings, logger);
  } catch (err) {
    if (err instanceof ConfigError || err instanceof IndexMismatchError) {
      process.stderr.write(`${err.message}\n`);
      return 3;
    }
    if (err instanceof StoreUnavailableError) {
      process.stderr.write(`trt-guide-bot: ${err.message}\n`);
      return 4;
    }
    throw err;
  }
  const { engine } = setup;
  const b = engine.backends;
  countError = setup.metrics.processError;

  if (platforms) {
    logger.info({ settings: describeDotEnv(dotenv) }, 'settings read');
    return runPlatforms(settings, setup, role, logger);
  }

  process.stderr.write(
    `trt-guide-bot: terminal chat | settings: ${describeDotEnv(dotenv)} | store: ${b.store} | retriever: ${b.retriever} | responder: ${b.responder} | crisis check: ${b.crisis} | moderation: ${b.moderation} | safety alerts: ${setup.alerts.routing.describe()} | logs: ${logFile ?? 'stderr'}\n`,
  );
  const alertWorker = startAlertWorker(settings, setup, logger);
  const user = settings.CONSOLE_USER ?? safeUserName();
  await runTerminalChat({ engine, user, input: process.stdin, output: process.stdout, interactive });
  // Without Redis the alerts live in this process: send what is due before it ends.
  const left = await alertWorker?.drain(10_000);
  if (left) logger.error({ alerts: left }, 'safety alerts not delivered before the chat ended');
  await setup.close();
  return 0;
}

/**
 * Runs the receivers and/or the worker until SIGTERM/SIGINT, then shuts down in order:
 * stop receiving, let running turns finish (SHUTDOWN_TIMEOUT_MS) and hand the rest to
 * another instance, close connections. Returns the exit code (0).
 */
async function runPlatforms(settings: Settings, setup: EngineSetup, role: Role, logger: pino.Logger): Promise<number> {
  const { engine } = setup;
  const b = engine.backends;
  const queue = setup.queue; // undefined without Redis: each adapter keeps an in-process queue
  const receivers: Array<() => Promise<void>> = [];
  let worker: Awaited<ReturnType<typeof startWorker>> | undefined;
  let alertWorker: ReturnType<typeof startAlertWorker>;
  let started = false;
  const ops = new OpsRoutes({ metrics: setup.metrics, checks: readinessChecks(setup, { started: () => started }) });
  // /healthz, /readyz, /metrics: beside /slack/events when Slack listens over HTTP, else on PORT of their own.
  const slackHttp = role !== 'worker' && Boolean(settings.SLACK_BOT_TOKEN) && !settings.SLACK_APP_TOKEN;
  let opsServer: OpsServer | undefined;
  const stopAll = async () => {
    ops.shuttingDown(); // /readyz answers 503 from now: a load balancer drains this instance while it stops
    // Keep receiving while the load balancer notices (its health checks see the 503): in Slack
    // HTTP mode the routes share the receiver's port, which closes with it.
    if (settings.SHUTDOWN_DRAIN_MS > 0) await new Promise((r) => setTimeout(r, settings.SHUTDOWN_DRAIN_MS));
    await Promise.allSettled(receivers.map((s) => s()));
    await worker?.stop(settings.SHUTDOWN_TIMEOUT_MS);
    await alertWorker?.stop();
    await setup.close();
    await opsServer?.close();
  };
  // What both adapters are built with: the same engine, marks, queue, limits and metrics.
  const adapterDeps = (platform: 'slack' | 'discord'): AdapterDeps & { engine: typeof engine } => ({
    engine,
    marks: setup.marks,
    logger,
    ...(queue ? { queue } : {}),
    limits: setup.limits,
    limitedReply: setup.limitedReply,
    orderWindowMs: settings.QUEUE_ORDER_WINDOW_MS,
    metrics: setup.metrics,
    onEdgeReject: (reason) => setup.metrics.edgeRejected(platform, reason),
    alerts: setup.alerts.queue, // the "I'm on it" buttons on alerts
  });
  try {
    if (!slackHttp) opsServer = await startOps(ops, settings.PORT, logger);
    if (role !== 'worker' && settings.SLACK_BOT_TOKEN) {
      const runner = createSlackApp(
        {
          botToken: settings.SLACK_BOT_TOKEN,
          signingSecret: settings.SLACK_SIGNING_SECRET,
          appToken: settings.SLACK_APP_TOKEN,
          apiUrl: settings.SLACK_API_URL,
          port: settings.PORT,
          allowChannels: settings.SLACK_CHANNELS === 'allow',
          customRoutes: ops.boltRoutes(),
        },
        adapterDeps('slack'),
      );
      const port = await runner.start();
      receivers.push(() => runner.stop());
      logger.info({ mode: runner.mode, port, role, ...b }, runner.mode === 'http' ? `Slack adapter listening on :${port}/slack/events` : 'Slack adapter connected (Socket Mode)');
    }
    if (role !== 'worker' && settings.DISCORD_BOT_TOKEN) {
      const runner = createDiscordClient(
        {
          token: settings.DISCORD_BOT_TOKEN,
          apiUrl: settings.DISCORD_API_URL,
          shards: settings.DISCORD_SHARDS?.split(',').map(Number),
          shardCount: settings.DISCORD_SHARD_COUNT,
        },
        adapterDeps('discord'),
      );
      await runner.start();
      receivers.push(() => runner.stop());
      logger.info({ shards: settings.DISCORD_SHARDS ?? 'all', role, ...b }, 'Discord adapter connected');
    }
    if (role !== 'receiver' && queue) {
      worker = await startWorker(settings, setup, queue, logger);
      const stats = worker.stats; // the worker's live counters (mutated in place)
      setup.metrics.watchWorker(() => stats);
      logger.info({ role, consumer: worker.consumer, concurrency: settings.QUEUE_CONCURRENCY }, 'queue worker started');
    }
    // Alerts are posted by workers (with Redis, any worker; without, this process).
    if (role !== 'receiver') alertWorker = startAlertWorker(settings, setup, logger);
    logger.info({ alerts: setup.alerts.routing.describe() }, 'safety alerts');
    started = true;
  } catch (err) {
    // Something failed to start: stop the rest, so the process ends and a supervisor restarts it.
    await stopAll().catch(() => undefined);
    throw err;
  }
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logger.info({ signal }, 'shutting down: no new messages; finishing turns in progress');
      void stopAll().finally(resolve);
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  logger.info({}, 'stopped');
  return 0;
}

/**
 * The ops routes on PORT. A port that cannot be bound is logged, not fatal: the bot still
 * answers, and an orchestrator's failing probes say what is missing.
 */
async function startOps(ops: OpsRoutes, port: number, logger: pino.Logger): Promise<OpsServer | undefined> {
  try {
    const server = await startOpsServer(ops.handle, port);
    logger.info({ opsPort: server.port }, `health and metrics on :${server.port} (/healthz, /readyz, /metrics)`);
    return server;
  } catch (err) {
    logger.error({ opsPort: port, err: errorCode(err) }, 'health and metrics endpoints not served: the port cannot be bound');
    return undefined;
  }
}

function safeUserName(): string {
  try {
    const name = userInfo().username.replace(/[^A-Za-z0-9._@-]/g, '_').slice(0, 64);
    return name || 'local';
  } catch {
    return 'local';
  }
}

main().then(
  (code) => {
    process.exitCode = failed ? 1 : code;
  },
  (err: unknown) => {
    process.stderr.write(`trt-guide-bot: unexpected error: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exitCode = 1;
  },
);
