/**
 * The Discord adapter on the real discord.js Client against the fake Discord, with every
 * way out recorded: log lines (the Logger the adapter gets), engine turns, queued messages,
 * marks (Redis) calls, and any uncaught exception or unhandled rejection in this process.
 */
import { Events } from 'discord.js';
import { createDiscordClient, type DiscordRunner } from '../../adapters/discord/discord-app.js';
import { createDiscordOutlet } from '../../adapters/discord/outlet.js';
import { MemoryMarks, MemoryTurnQueue, QueueWorker, RedisMarks, RedisTurnQueue, errorCode, type Logger, type Marks, type TurnInput, type TurnQueue } from '../../src/index.js';
import { cleanup, client, uniquePrefix } from '../redis/helpers.js';
import { FakeDiscord, message, person } from '../fakes/discord.js';
import { makeEngine } from '../helpers.js';
import { until } from '../wait.js';

export interface LogLine {
  level: string;
  msg: string | undefined;
  fields: Record<string, unknown>;
  /** The whole line as pino would write it (JSON). */
  text: string;
}

export function recordingLogger(): Logger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: string) => (fields: object, msg?: string) =>
    void lines.push({ level, msg, fields: { ...fields }, text: JSON.stringify({ level, ...fields, msg }) });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

export const DROPPED = 'Discord event dropped at the edge';
export const DM_CHANNEL = '600000000000000001';

export interface Harness {
  fake: FakeDiscord;
  runner: DiscordRunner;
  logger: ReturnType<typeof recordingLogger>;
  /** Turns the engine was asked to run. */
  turns: TurnInput[];
  /** Set: the engine's turns fail at once (after being recorded). */
  failTurns: boolean;
  /** Messages handed to the queue. */
  enqueued: Array<{ id: string; sessionId: string }>;
  /** Marks (Redis) calls, as "method key". */
  markCalls: string[];
  /** Uncaught exceptions and unhandled rejections seen while the harness ran (error codes). */
  crashes: string[];
  /** Gateway dispatches of a type the client received (counted from discord.js's 'raw' event). */
  received(t: string): number;
  /** Waits until the client received `count` dispatches of type t, and a macrotask more. */
  waitReceived(t: string, count: number, timeoutMs?: number): Promise<void>;
  /** The drop lines. */
  drops(): LogLine[];
  /** Sends a normal DM and waits for its answer (the bot still works). */
  dmStillAnswered(timeoutMs?: number): Promise<{ channel: string; id: string }>;
  stop(): Promise<void>;
}

export async function waitUntil(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  await until(cond, { timeoutMs, what });
}

/**
 * Starts the bot. queue 'memory': the default in-process queue and in-memory marks;
 * 'redis': real Redis marks and queue, answered by a REST-only worker (as in production).
 */
export async function startHarness(queueKind: 'memory' | 'redis' = 'memory'): Promise<Harness> {
  const crashes: string[] = [];
  const onCrash = (err: unknown) => void crashes.push(errorCode(err));
  process.on('uncaughtException', onCrash);
  process.on('unhandledRejection', onCrash);

  const fake = new FakeDiscord();
  const apiUrl = await fake.start();
  const logger = recordingLogger();
  const { engine: real } = makeEngine();
  let harness: Harness;
  const turns: TurnInput[] = [];
  const engine = {
    get texts() {
      return real.texts;
    },
    crisisResponse: (text: string) => real.crisisResponse(text),
    handleTurn: (input: TurnInput, hooks?: Parameters<typeof real.handleTurn>[1]) => {
      turns.push(input);
      return harness.failTurns ? Promise.reject(new Error('engine down')) : real.handleTurn(input, hooks);
    },
  };
  const markCalls: string[] = [];
  const recordMarks = (inner: Marks): Marks => ({
    setIfAbsent: (key, ttl) => (markCalls.push(`setIfAbsent ${key}`), inner.setIfAbsent(key, ttl)),
    exists: (key) => (markCalls.push(`exists ${key}`), inner.exists(key)),
    clear: (key) => (markCalls.push(`clear ${key}`), inner.clear(key)),
  });
  const enqueued: Array<{ id: string; sessionId: string }> = [];
  const recordQueue = (inner: () => TurnQueue): TurnQueue => ({
    get name() {
      return inner().name;
    },
    enqueue: (m) => (enqueued.push({ id: m.id, sessionId: m.sessionId }), inner().enqueue(m)),
  });

  let stopExtra = async () => undefined as void;
  let runner: DiscordRunner;
  if (queueKind === 'redis') {
    const prefix = uniquePrefix();
    const redis = client();
    const reader = client();
    const workerQueue = client();
    const queue = new RedisTurnQueue({ client: redis, prefix });
    runner = createDiscordClient({ token: 'fake.discord.token', apiUrl }, { engine, marks: recordMarks(new RedisMarks(redis, prefix)), logger, queue: recordQueue(() => queue) });
    const worker = new QueueWorker({
      queue: new RedisTurnQueue({ client: workerQueue, prefix }),
      reader,
      runner: { engine, outlets: { discord: createDiscordOutlet({ token: 'fake.discord.token', apiUrl }, logger, 100) }, logger },
      logger,
      blockMs: 200,
    });
    await worker.start();
    stopExtra = async () => {
      await worker.stop(2000);
      redis.disconnect();
      reader.disconnect();
      workerQueue.disconnect();
      await cleanup(prefix);
    };
  } else {
    // The default queue, built around the runner's own outlet once the runner exists.
    let memory: MemoryTurnQueue | undefined;
    runner = createDiscordClient({ token: 'fake.discord.token', apiUrl }, { engine, marks: recordMarks(new MemoryMarks()), logger, queue: recordQueue(() => memory!), typingEveryMs: 100 });
    memory = new MemoryTurnQueue({ engine, outlets: { discord: runner.outlet }, logger });
    stopExtra = async () => void (await memory!.stop(2000));
  }
  const counts = new Map<string, number>();
  runner.client.on(Events.Raw, (packet: { t?: unknown }) => {
    if (typeof packet?.t === 'string') counts.set(packet.t, (counts.get(packet.t) ?? 0) + 1);
  });
  await runner.start();
  await fake.ready();

  const received = (t: string) => counts.get(t) ?? 0;
  let dms = 0;
  harness = {
    failTurns: false,
    fake,
    runner,
    logger,
    turns,
    enqueued,
    markCalls,
    crashes,
    received,
    async waitReceived(t, count, timeoutMs = 20_000) {
      await waitUntil(`${count} ${t} dispatches (got ${received(t)})`, () => received(t) >= count, timeoutMs);
      await new Promise((r) => setImmediate(r));
    },
    drops: () => logger.lines.filter((l) => l.msg === DROPPED),
    async dmStillAnswered(timeoutMs = 10_000) {
      const channel = `6000000000000001${String(10 + dms++).padStart(2, '0')}`;
      const path = new RegExp(`^/channels/${channel}/messages$`);
      const m = message({ channel_id: channel, content: 'hello', author: person('400000000000000042') });
      fake.dispatch('MESSAGE_CREATE', m);
      await fake.waitFor('POST', path, 1, timeoutMs);
      return { channel, id: m.id };
    },
    async stop() {
      await stopExtra();
      await runner.client.destroy();
      await fake.stop();
      process.off('uncaughtException', onCrash);
      process.off('unhandledRejection', onCrash);
    },
  };
  return harness;
}
