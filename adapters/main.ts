/**
 * `npm start`: the composition root. Reads the environment once, validates
 * it, loads config, builds the engine and starts the adapter the settings
 * select (with no platform tokens: the terminal chat).
 *
 * Exit codes: 0 normal end, 1 unexpected error, 2 invalid settings, 3 invalid config
 * or retrieval index, 4 Redis unreachable at start-up.
 */
import { Command } from 'commander';
import { userInfo } from 'node:os';
import { pino } from 'pino';
import { ConfigError, IndexMismatchError, StoreUnavailableError, createEngine, settingsOrReport } from '../src/index.js';
import { createDiscordClient } from './discord/discord-app.js';
import { createSlackApp } from './slack/slack-app.js';
import { runTerminalChat } from './terminal/terminal-chat.js';

const program = new Command()
  .name('trt-guide-bot')
  .description('A guided, body-focused self-help chat bot: Slack and/or Discord when their tokens are set, otherwise a terminal chat.')
  .addHelpText(
    'after',
    `
Settings come from the environment (see .env.example and the README).
Piped input: one message per line, one reply per message on stdout, e.g.
  printf 'hello\\nI want to feel calm\\n' | npm start --silent

Exit codes: 0 normal end, 1 unexpected error, 2 invalid settings, 3 invalid config or
retrieval index (the message names the rebuild command), 4 Redis unreachable at start-up.`,
  )
  .parse();
void program;

async function main(): Promise<number> {
  const settings = settingsOrReport(process.env, (m) => process.stderr.write(m));
  if (!settings) return 2;
  const slack = Boolean(settings.SLACK_BOT_TOKEN);
  const discord = Boolean(settings.DISCORD_BOT_TOKEN);
  const platforms = slack || discord;
  const interactive = !platforms && Boolean(process.stdin.isTTY);
  // Logs go to stderr so stdout carries only replies. The terminal chat logs warnings only unless asked.
  const logger = pino({ level: settings.LOG_LEVEL ?? (platforms ? 'info' : 'warn'), base: { app: 'trt-guide-bot' } }, pino.destination(2));

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

  if (platforms) {
    const stops: Array<() => Promise<void>> = [];
    try {
      if (slack) {
        const runner = createSlackApp(
          {
            botToken: settings.SLACK_BOT_TOKEN!,
            signingSecret: settings.SLACK_SIGNING_SECRET,
            appToken: settings.SLACK_APP_TOKEN,
            apiUrl: settings.SLACK_API_URL,
            port: settings.PORT,
            allowChannels: settings.SLACK_CHANNELS === 'allow',
          },
          { engine, marks: setup.marks, logger },
        );
        const port = await runner.start();
        stops.push(() => runner.stop());
        logger.info({ mode: runner.mode, port, ...b }, runner.mode === 'http' ? `Slack adapter listening on :${port}/slack/events` : 'Slack adapter connected (Socket Mode)');
      }
      if (discord) {
        const runner = createDiscordClient(
          {
            token: settings.DISCORD_BOT_TOKEN!,
            apiUrl: settings.DISCORD_API_URL,
            shards: settings.DISCORD_SHARDS?.split(',').map(Number),
            shardCount: settings.DISCORD_SHARD_COUNT,
          },
          { engine, marks: setup.marks, logger },
        );
        await runner.start();
        stops.push(() => runner.stop());
        logger.info({ shards: settings.DISCORD_SHARDS ?? 'all', ...b }, 'Discord adapter connected');
      }
    } catch (err) {
      // One platform failed to start: stop the others and the store, so the process ends and a supervisor restarts it.
      await Promise.allSettled(stops.map((s) => s()));
      await setup.store.close();
      throw err;
    }
    await new Promise<void>((resolve) => {
      const stop = (signal: string) => {
        logger.info({ signal }, 'shutting down');
        void Promise.allSettled(stops.map((s) => s())).finally(resolve);
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
    });
    await setup.store.close();
    return 0;
  }

  process.stderr.write(`trt-guide-bot: terminal chat | store: ${b.store} | retriever: ${b.retriever} | responder: ${b.responder}\n`);
  const user = settings.CONSOLE_USER ?? safeUserName();
  await runTerminalChat({ engine, user, input: process.stdin, output: process.stdout, interactive });
  await setup.store.close();
  return 0;
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
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`trt-guide-bot: unexpected error: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exitCode = 1;
  },
);
