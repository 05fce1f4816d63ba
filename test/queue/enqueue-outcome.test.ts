/**
 * "Try again" only when it is true: a burst of 20 messages while Redis stalls (DEBUG SLEEP),
 * hangs (SIGSTOP, then SIGCONT) or restarts. Each message is either answered exactly once,
 * or its sender is told to send it again, exactly when it was not stored.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { NotQueuedError, enqueueHonestly, silentLogger, type Engine, type QueuedMessage, type TurnResult } from '../../src/index.js';
import { QueueWorker } from '../../src/queue/redis/queue-worker.js';
import { RedisTurnQueue, fields } from '../../src/queue/redis/redis-turn-queue.js';
import { connectRedis, createRedisClient, type RedisClient } from '../../src/redis/connection.js';
import { GROUP } from '../../src/queue/redis/queue-keys.js';
import { RedisServer } from '../redis/helpers.js';
import { pause, until } from '../wait.js';
import { RecordingOutlet } from './recording-outlet.js';
import { answeredTurn } from '../turn-results.js';

const teardown: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const t of teardown.splice(0).reverse()) await t().catch(() => undefined);
});

async function connected(url: string): Promise<RedisClient> {
  const c = createRedisClient({ url, commandTimeoutMs: 500 });
  c.on('error', () => undefined);
  await connectRedis(c);
  return c;
}

/** An engine that records which messages each turn answered (by their text) and replies. */
function recordingEngine(answered: Map<string, number>): Pick<Engine, 'handleTurn' | 'crisisResponse' | 'texts'> {
  return {
    texts: { disclosure: '', help: '', unavailable: 'SEND AGAIN', unsure: 'UNSURE' },
    crisisResponse: () => null,
    handleTurn: async (input, hooks): Promise<TurnResult> => {
      const delivered = (await hooks?.deliver?.('ok')) ?? false;
      if (delivered) for (const p of input.parts ?? []) answered.set(p.text, (answered.get(p.text) ?? 0) + 1);
      return answeredTurn(input.sessionId, 'ok', { delivered });
    },
  };
}

type Fault = 'debug-sleep' | 'sigstop' | 'restart';
/** Between the burst's messages: 20 of them over 2 s, overlapping a 3-4 s fault. */
const BURST_GAP_MS = 100;
/**
 * Pacing, after a fault is started: DEBUG SLEEP is sent without waiting for its answer (it comes
 * after the stall), and the message after it should meet the stall, not race it to the server.
 */
const FAULT_START_MS = 50;

async function burstDuring(fault: Fault, fastPath = false) {
  // Appended and fsynced: what was stored survives the restart, as on a durable deployment.
  const server = await RedisServer.start(['--appendonly', 'yes', '--appendfsync', 'always', '--enable-debug-command', 'yes']);
  teardown.push(() => server.destroy());
  const redis = await connected(server.url);
  const reader = await connected(server.url);
  const answered = new Map<string, number>();
  const told: Array<{ text: string; line: string }> = [];
  const outlet = new RecordingOutlet();
  void outlet;
  const queue = new RedisTurnQueue({ client: redis, prefix: 'stall', resolveWithinMs: 30_000 });
  const worker = new QueueWorker({ queue, reader, runner: { engine: recordingEngine(answered), outlets: { test: outlet }, logger: silentLogger }, logger: silentLogger, claimIdleMs: 1000, ownerTtlMs: 800, blockMs: 200 });
  await worker.start();
  // Without the fast path every message goes through the stream, as on a receiver-only
  // instance; with it (`--role all`), an attempt carries an owner token that may land late.
  if (!fastPath) queue.local = undefined;
  teardown.push(async () => {
    await worker.stop(1000);
    redis.disconnect();
  });

  const texts = Array.from({ length: 20 }, (_, i) => `message-${i}`);
  const outcomes: string[] = [];
  const sends: Array<Promise<void>> = [];
  for (const [i, text] of texts.entries()) {
    if (i === 5) await startFault(server, fault);
    const m: QueuedMessage = { id: `id-${i}`, sessionId: `s${i % 4}`, userId: 'U1', platform: 'test', text, replyTo: {}, receivedAt: Date.now() };
    sends.push(
      enqueueHonestly({ queue, tell: async (line) => void told.push({ text, line }), crisisResponse: () => null, texts: { unavailable: 'SEND AGAIN', unsure: 'UNSURE' }, logger: silentLogger }, m).then((o) => void outcomes.push(o)),
    );
    await pause(BURST_GAP_MS); // pacing: the burst spans the fault
  }
  await Promise.all(sends);
  const settled = (t: string) => (answered.get(t) ?? 0) > 0 || told.some((x) => x.text === t);
  await until(() => texts.every(settled), { timeoutMs: 40_000, everyMs: 50, what: () => `every message settled; unsettled: ${texts.filter((t) => !settled(t)).join(', ')}` });
  // A second answer would come from a wake-up still waiting: wait until Redis answers again
  // and the queue is idle (no wake-up waiting or being worked on, no inbox left).
  const idle = async () => {
    try {
      const groups = (await redis.xinfo('GROUPS', queue.keys.stream)) as unknown[][];
      const g = groups.map((x) => fields(x)).find((f) => f.name === GROUP);
      const inboxes = await Promise.all(['s0', 's1', 's2', 's3'].map((id) => redis.llen(queue.keys.inbox(id))));
      return g !== undefined && Number(g.lag ?? 0) === 0 && Number(g.pending ?? 0) === 0 && inboxes.every((n) => n === 0);
    } catch {
      return false; // Redis is not answering yet
    }
  };
  await until(idle, { timeoutMs: 30_000, everyMs: 200, what: 'the queue to drain' });
  return { texts, answered, told, outcomes };
}

async function startFault(server: RedisServer, fault: Fault) {
  if (fault === 'debug-sleep') {
    const admin = await connected(server.url);
    void admin.call('DEBUG', 'SLEEP', '4').catch(() => undefined).finally(() => admin.disconnect());
  } else if (fault === 'sigstop') {
    server.signal('SIGSTOP');
    setTimeout(() => server.signal('SIGCONT'), 4000);
  } else {
    await server.kill();
    setTimeout(() => void server.start(), 3000);
  }
  await pause(FAULT_START_MS);
}

describe('enqueue outcome during Redis faults', () => {
  for (const fault of ['debug-sleep', 'sigstop', 'restart'] as const) {
    it(`${fault}: each of 20 messages is answered exactly once, or its sender told to send it again exactly when it was not stored`, async () => {
      const { texts, answered, told, outcomes } = await burstDuring(fault);
      if (process.env.SHOW) console.log(JSON.stringify({ outcomes, answered: [...answered], told }));
      for (const t of texts) {
        const times = answered.get(t) ?? 0;
        const lines = told.filter((x) => x.text === t).map((x) => x.line);
        expect(times, t).toBeLessThanOrEqual(1);
        // Answered, or told "send it again" — never both, never neither, never unsure (Redis came back in time).
        expect(times === 1 ? lines : lines, t).toEqual(times === 1 ? [] : ['SEND AGAIN']);
      }
      // The fault was felt: some messages were not settled within the acknowledgement window, or were refused.
      expect(outcomes.some((o) => o !== 'queued'), outcomes.join(',')).toBe(true);
    }, 90_000);
  }

  it('debug-sleep with the fast path (receiver and worker in one process): each message answered once or told to send it again', async () => {
    const { texts, answered, told } = await burstDuring('debug-sleep', true);
    for (const t of texts) {
      const times = answered.get(t) ?? 0;
      expect(times, t).toBeLessThanOrEqual(1);
      expect(told.filter((x) => x.text === t).map((x) => x.line), t).toEqual(times === 1 ? [] : ['SEND AGAIN']);
    }
  }, 90_000);

  it('a fence that finds the message stored says so; one that finds nothing refuses it for good', async () => {
    const server = await RedisServer.start();
    teardown.push(() => server.destroy());
    const redis = await connected(server.url);
    teardown.push(async () => redis.disconnect());
    const queue = new RedisTurnQueue({ client: redis, prefix: 'fence', enqueueRetryMs: 300, resolveWithinMs: 10_000 });
    // The server hangs before the message arrives: the enqueue times out, then the fence settles it.
    server.signal('SIGSTOP');
    setTimeout(() => server.signal('SIGCONT'), 1500);
    const m: QueuedMessage = { id: 'x1', sessionId: 'f1', userId: 'U1', platform: 'test', text: 'hi', replyTo: {}, receivedAt: Date.now() };
    expect(await queue.enqueue(m)).toBe('queued'); // the attempt ran when the server resumed: stored
    // A message that never reached Redis (its attempts were dropped with the connection): refused for good.
    await server.kill();
    const lost = queue.enqueue({ ...m, id: 'x2' }).catch((e: unknown) => e);
    setTimeout(() => void server.start(), 2500);
    const err = await lost;
    expect(err).toBeInstanceOf(NotQueuedError);
    // A later delivery of that same message is a duplicate (told once), never a second turn.
    expect(await queue.enqueue({ ...m, id: 'x2' })).toBe('duplicate');
  }, 30_000);
});
