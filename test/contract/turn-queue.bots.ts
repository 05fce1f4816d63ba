/**
 * Bot factories for the turn-queue contract: one instance of the bot around the contract's
 * outlet and engine wrapper, in memory or on Redis (one server or a Cluster). The set-up each
 * implementation needs (a worker with its own reader connection, quick retry times, where a
 * given-up message is parked) stays here.
 */
import { Engine, MemoryTurnQueue, QueueWorker, RedisSessionStore, RedisTurnQueue, type Logger, type RedisClient } from '../../src/index.js';
import { DeadLetters } from '../../src/queue/redis/dead-letters.js';
import { makeEngine, repoConfig, repoRetriever } from '../helpers.js';
import type { BotDeps, Parked, QueueBot } from './turn-queue.contract.js';

/** Keeps the error lines: the in-memory queue parks a given-up message as a log line only. */
export function errorLog(): Logger & { errors: Array<{ obj: Record<string, unknown>; msg?: string | undefined }> } {
  const errors: Array<{ obj: Record<string, unknown>; msg?: string | undefined }> = [];
  return { errors, debug() {}, info() {}, warn() {}, error: (obj, msg) => void errors.push({ obj: obj as Record<string, unknown>, msg }) };
}
const linesOf = (logger: ReturnType<typeof errorLog>) => () => logger.errors.map(({ obj, msg }) => ({ sessionId: obj.sessionId, msg: msg ?? '' }));

/** The in-process queue with the memory session store; a failed try is redone after 100 ms (default 1 s). */
export function memoryBot(deps: BotDeps): Promise<QueueBot> {
  const { engine, store } = makeEngine();
  const logger = errorLog();
  const queue = new MemoryTurnQueue({ engine: deps.wrap(engine), outlets: deps.outlets, logger }, undefined, 100);
  let stopped: Promise<void> | undefined;
  return Promise.resolve({
    queue,
    history: (s) => store.history(s),
    parked: async () =>
      logger.errors
        .filter((l) => l.obj.parked === 'log only')
        .map(({ obj }): Parked => ({ sessionId: String(obj.sessionId), messages: Number(obj.messages), reason: String(obj.reason), attempts: Number(obj.attempts) })),
    errors: linesOf(logger),
    stop: () => (stopped ??= queue.stop(3000).then(() => undefined)),
  });
}

export interface RedisBotOptions {
  /** A connected client for commands; and one for the worker's blocking reads. */
  connect: () => Promise<RedisClient>;
  connectReader: () => Promise<RedisClient>;
  prefix: string;
}

/**
 * One instance on Redis: its own connections, Redis session store, engine, queue and worker.
 * Quick retries: a failed try's wake-up is claimed again after 400 ms (default 10 s), ownership
 * lapses after 200 ms (default 5 s). `restart` makes another instance on the same prefix.
 */
export async function redisBot(deps: BotDeps, o: RedisBotOptions): Promise<QueueBot> {
  const [redis, reader] = await Promise.all([o.connect(), o.connectReader()]);
  const store = new RedisSessionStore({ client: redis, prefix: o.prefix, lockTtlMs: 1000 });
  const engine = new Engine({ config: repoConfig(), store, retriever: repoRetriever() });
  const queue = new RedisTurnQueue({ client: redis, prefix: o.prefix });
  const logger = errorLog();
  const worker = new QueueWorker({ queue, reader, runner: { engine: deps.wrap(engine), outlets: deps.outlets, logger }, logger, claimIdleMs: 400, ownerTtlMs: 200, blockMs: 100 });
  await worker.start();
  const dead = new DeadLetters(redis, queue.keys);
  let stopped: Promise<void> | undefined;
  return {
    queue,
    history: (s) => store.history(s),
    parked: async () => (await dead.list()).map((d): Parked => ({ sessionId: d.sessionId, messages: d.seqs.length, reason: d.reason, attempts: d.attempts })),
    errors: linesOf(logger),
    // As the bot shuts down: the worker (which closes its reader), then the store, which QUITs the
    // shared connection. (Every enqueue attempt and fence is bounded by its own window, so a
    // Cluster client that leaves later commands pending cannot hold an enqueue either.)
    stop: () => (stopped ??= worker.stop(3000).then(() => store.close())),
    restart: (outlets) => redisBot({ ...deps, ...(outlets ? { outlets } : {}) }, o),
  };
}
