/**
 * A poison message (its turn throws) on the real Redis queue and in memory: counted towards
 * the 5-try limit, parked (a dead letter with Redis, a log line in memory), the person told once,
 * the session's later messages answered; and the data CLI that lists and replays dead letters.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { AesGcmCipher, Engine, MemoryTurnQueue, RedisSessionStore, silentLogger, type Logger, type RunnerDeps, type TextCipher } from '../../src/index.js';
import { DeadLetters } from '../../src/queue/redis/dead-letters.js';
import { QueueWorker } from '../../src/queue/redis/queue-worker.js';
import { RedisTurnQueue } from '../../src/queue/redis/redis-turn-queue.js';
import { MAX_ATTEMPTS } from '../../src/queue/turn-runner.js';
import { ROOT, makeEngine, repoConfig, repoRetriever } from '../helpers.js';
import { REDIS_URL, cleanup, client, uniquePrefix } from '../redis/helpers.js';
import { until } from '../wait.js';
import { message } from './message.js';
import { RecordingOutlet } from './recording-outlet.js';

const UNAVAILABLE = repoConfig().responses.system.unavailable;
const POISON = 'my sister Ottoline said the blue door';
const NORMAL = 'I want to feel calm';
const teardown: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const t of teardown.splice(0).reverse()) await t();
});


/** Every log line as JSON, to look for text that must never be there. */
function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (obj: object, msg?: string) => void lines.push(JSON.stringify({ level, ...obj, msg }));
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** The real engine, except that a turn holding POISON throws a TypeError whose message quotes the person (as a careless bug's might). */
function poisoned(engine: Engine, calls = { poison: 0 }): RunnerDeps['engine'] & { calls: { poison: number } } {
  return {
    calls,
    handleTurn: async (input, hooks) => {
      const texts = input.parts?.map((p) => p.text) ?? [input.text];
      if (texts.some((t) => typeof t === 'string' && t.includes(POISON))) {
        calls.poison++;
        throw new TypeError(`Cannot read properties of undefined (reading 'x') near "${texts.join(' ')}"`);
      }
      return engine.handleTurn(input, hooks);
    },
    crisisResponse: (t) => engine.crisisResponse(t),
    get texts() {
      return engine.texts;
    },
  };
}

/** The probe's value once `ok` holds for it (the shared until(), for values that may be falsy, such as a length of 0). */
async function reached<T>(what: string, probe: () => Promise<T> | T, ok: (v: T) => boolean, timeoutMs = 15_000): Promise<T> {
  let v: T | undefined;
  await until(async () => ok((v = await probe())), { timeoutMs, everyMs: 25, what: () => `${what}: ${JSON.stringify(v)}` });
  return v as T;
}

const key = () => randomBytes(32);

/** A queue, store and (not yet started) worker on the real Redis, sharing a prefix and a cipher. */
function redisBot(prefix: string, cipher: TextCipher, outlet: RecordingOutlet, logger: Logger, wrap: (e: Engine) => RunnerDeps['engine'] = (e) => e) {
  const redis = client();
  const reader = client();
  const store = new RedisSessionStore({ client: redis, prefix, lockTtlMs: 1000, cipher });
  const engine = new Engine({ config: repoConfig(), store, retriever: repoRetriever() });
  const queue = new RedisTurnQueue({ client: redis, prefix, cipher });
  const worker = new QueueWorker({ queue, reader, runner: { engine: wrap(engine), outlets: { test: outlet }, logger }, logger, claimIdleMs: 300, blockMs: 100 });
  teardown.push(async () => {
    await worker.stop(1000);
    redis.disconnect();
  });
  return { redis, store, engine, queue, worker, dead: new DeadLetters(redis, queue.keys) };
}

async function userTexts(store: RedisSessionStore, sessionId: string): Promise<string[]> {
  return (await store.history(sessionId)).filter((h) => h.role === 'user').map((h) => h.text);
}

describe('a poison message on the Redis queue', () => {
  it('is tried 5 times, parked as a sealed dead letter with its reason, the person told once, and the message behind it answered', async () => {
    const prefix = uniquePrefix();
    teardown.push(() => cleanup(prefix));
    const outlet = new RecordingOutlet();
    const logger = recordingLogger();
    const calls = { poison: 0 };
    const bot = redisBot(prefix, new AesGcmCipher(key()), outlet, logger, (e) => poisoned(e, calls));
    const s = 'test:poison1';
    const poison = message(s, `${POISON} and then nothing`);
    // Queued before the worker runs: the two messages are one batch at first.
    await bot.queue.enqueue(poison);
    await bot.queue.enqueue(message(s, NORMAL));
    await bot.worker.start();

    const users = await reached('the normal message answered', () => userTexts(bot.store, s), (u) => u.length > 0);
    expect(users).toEqual([NORMAL]);
    const [entry, ...more] = await reached('a dead letter', () => bot.dead.list(), (l) => l.length > 0);
    expect(more).toEqual([]);
    expect(entry).toMatchObject({ sessionId: s, user: 'test:U1', reason: 'TypeError', attempts: MAX_ATTEMPTS, ids: [poison.id] });
    expect(entry!.seqs).toHaveLength(1);
    expect(entry!.payloads).toHaveLength(1);
    expect(entry!.payloads[0]).toMatch(/^enc1\./); // sealed as the inbox stored it
    expect(entry!.payloads[0]).not.toContain('Ottoline');
    // Tried as a batch with the normal message once, then alone: MAX_ATTEMPTS tries in all.
    expect(calls.poison).toBe(MAX_ATTEMPTS);
    expect(outlet.for(s).filter((t) => t === UNAVAILABLE)).toHaveLength(1);
    expect(outlet.for(s)).toHaveLength(2); // the "try again" and the normal message's reply

    // Nothing is left: inbox, attempts, wake-ups (acknowledged and deleted).
    await reached('the wake-up stream emptied', () => bot.redis.xlen(bot.queue.keys.stream), (len) => len === 0);
    expect(await bot.redis.exists(bot.queue.keys.inbox(s), bot.queue.keys.attempts(s))).toBe(0);
    expect(await bot.queue.depth()).toEqual({ waiting: 0, pending: 0 });

    // Its tries and its parking were logged, with codes and ids, never the text.
    const log = logger.lines.join('\n');
    expect(log).toContain('queued turn failed; it will be retried');
    expect(log).toContain('given up');
    expect(log).toContain(entry!.id);
    expect(log).not.toContain('Ottoline');
    expect(log).not.toContain(NORMAL);
  });

  it('a message whose reply target makes the outlet throw is parked once, and the conversation behind it goes on', async () => {
    const prefix = uniquePrefix();
    teardown.push(() => cleanup(prefix));
    const outlet = new RecordingOutlet();
    // Like the Slack and Discord outlets, which read replyTo.channel at once: null throws, in the
    // turn and again when the person is to be told it was given up.
    const strict: typeof outlet = Object.assign(Object.create(outlet) as RecordingOutlet, {
      begin: (replyTo: Record<string, unknown>, sessionId: string) => {
        if (replyTo === null) throw new TypeError("Cannot read properties of null (reading 'channel')");
        return outlet.begin(replyTo, sessionId);
      },
    });
    const bot = redisBot(prefix, new AesGcmCipher(key()), strict, silentLogger);
    const s = 'test:poison-outlet';
    await bot.queue.enqueue(message(s, 'hello', { replyTo: null as unknown as Record<string, unknown> }));
    await bot.queue.enqueue(message(s, NORMAL, { userId: 'U2' })); // another person's message, behind it
    await bot.worker.start();
    await reached('the message behind it answered', () => userTexts(bot.store, s), (u) => u.includes(NORMAL));
    await reached('the wake-up stream emptied', () => bot.redis.xlen(bot.queue.keys.stream), (len) => len === 0);
    expect(await bot.dead.count()).toBe(1); // parked once, not once per claim
    expect(await bot.redis.llen(bot.queue.keys.inbox(s))).toBe(0);
  });

  it('parking is once per message: a second owner, or a retry after a crash before the release, finds it parked', async () => {
    const prefix = uniquePrefix();
    teardown.push(() => cleanup(prefix));
    const bot = redisBot(prefix, new AesGcmCipher(key()), new RecordingOutlet(), silentLogger);
    const s = 'test:park-once';
    const m = message(s, 'hello');
    await bot.queue.enqueue(m);
    const [raw] = await bot.redis.lrange(bot.queue.keys.inbox(s), 0, 0);
    const head = { ...m, seq: Number(raw!.split('|')[0]) };
    expect(await bot.dead.park(s, [head], 'TypeError', MAX_ATTEMPTS)).toMatch(/^\d+-\d+$/);
    expect(await bot.dead.park(s, [head], 'TypeError', MAX_ATTEMPTS)).toBeUndefined();
    expect(await bot.dead.count()).toBe(1);
  });

  it('a person\'s forget + yes in chat takes their dead letters too (their words), and no one else\'s', async () => {
    const prefix = uniquePrefix();
    teardown.push(() => cleanup(prefix));
    const bot = redisBot(prefix, new AesGcmCipher(key()), new RecordingOutlet(), silentLogger);
    for (const [sessionId, userId] of [['test:dl-a', 'U1'], ['test:dl-b', 'U2']] as const) {
      const m = message(sessionId, POISON, { userId });
      await bot.queue.enqueue(m);
      const [raw] = await bot.redis.lrange(bot.queue.keys.inbox(sessionId), 0, 0);
      await bot.dead.park(sessionId, [{ ...m, seq: Number(raw!.split('|')[0]) }], 'TypeError', MAX_ATTEMPTS);
    }
    expect(await bot.dead.count()).toBe(2);
    const engine = new Engine({ config: repoConfig(), store: bot.store, retriever: repoRetriever(), eraseElsewhere: (user) => bot.dead.removeUser(user) });
    const say = (text: string) => engine.handleTurn({ sessionId: 'test:dl-chat', userId: 'U1', platform: 'test', text });
    await say('hello');
    await say('forget');
    expect((await say('yes')).reply).toContain('erased');
    const left = await bot.dead.list();
    expect(left.map((d) => d.user)).toEqual(['test:U2']);
  });

  it('a burst with a poison in the middle: only the poison is parked, the messages before and after it are answered, in order', async () => {
    const prefix = uniquePrefix();
    teardown.push(() => cleanup(prefix));
    const outlet = new RecordingOutlet();
    const bot = redisBot(prefix, new AesGcmCipher(key()), outlet, silentLogger);
    const s = 'test:poison2';
    await bot.queue.enqueue(message(s, 'hello'));
    // A truly malformed field: the real engine's turn throws a TypeError on it.
    const bad = message(s, 42 as unknown as string);
    await bot.queue.enqueue(bad);
    await bot.queue.enqueue(message(s, NORMAL));
    await bot.worker.start();

    const users = await reached('both good messages answered', () => userTexts(bot.store, s), (u) => u.length >= 2);
    expect(users).toEqual(['hello', NORMAL]);
    const entries = await reached('a dead letter', () => bot.dead.list(), (l) => l.length > 0);
    expect(entries).toHaveLength(1);
    // The reason is the error's code where it has one: Node's for a non-string argument.
    expect(entries[0]).toMatchObject({ reason: 'ERR_INVALID_ARG_TYPE', ids: [bad.id], attempts: MAX_ATTEMPTS });
    expect(outlet.for(s).filter((t) => t === UNAVAILABLE)).toHaveLength(1);
    await reached('the wake-up stream emptied', () => bot.redis.xlen(bot.queue.keys.stream), (len) => len === 0);
  });
});

describe('a poison message in the in-memory queue', () => {
  it('is tried 5 times, logged as parked without text, the person told once, and the message behind it answered', async () => {
    const { engine, store } = makeEngine();
    const outlet = new RecordingOutlet();
    const logger = recordingLogger();
    const wrapped = poisoned(engine);
    const queue = new MemoryTurnQueue({ engine: wrapped, outlets: { test: outlet }, logger }, undefined, 20);
    const s = 'test:mpoison';
    await queue.enqueue(message(s, `${POISON} and then nothing`));
    await queue.enqueue(message(s, NORMAL)); // queued before the first turn starts: one batch at first
    await reached('the normal message answered', async () => (await store.history(s)).filter((h) => h.role === 'user').map((h) => h.text), (u) => u.length > 0);
    await queue.stop(2000);
    expect((await store.history(s)).filter((h) => h.role === 'user').map((h) => h.text)).toEqual([NORMAL]);
    expect(wrapped.calls.poison).toBe(MAX_ATTEMPTS);
    expect(outlet.for(s).filter((t) => t === UNAVAILABLE)).toHaveLength(1);
    const given = logger.lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => String(l.msg).includes('given up'));
    expect(given).toHaveLength(1);
    expect(given[0]).toMatchObject({ sessionId: s, messages: 1, reason: 'TypeError', attempts: MAX_ATTEMPTS, parked: 'log only' });
    const log = logger.lines.join('\n');
    expect(log).not.toContain('Ottoline');
    expect(log).not.toContain(NORMAL);
  });

  it('a turn that throws on a risk statement still posts the crisis response', async () => {
    const { engine } = makeEngine();
    const outlet = new RecordingOutlet();
    const throwing: RunnerDeps['engine'] = {
      handleTurn: async () => {
        throw new TypeError('broken');
      },
      crisisResponse: (t) => engine.crisisResponse(t),
      texts: engine.texts,
    };
    const queue = new MemoryTurnQueue({ engine: throwing, outlets: { test: outlet }, logger: silentLogger }, undefined, 10);
    await queue.enqueue(message('test:mcrisis', 'I want to kill myself'));
    await reached('the "try again" line', () => outlet.for('test:mcrisis'), (r) => r.includes(UNAVAILABLE));
    await queue.stop(1000);
    const replies = outlet.for('test:mcrisis');
    expect(replies[0]).toContain(repoConfig().safety.response);
    expect(replies.filter((t) => t === UNAVAILABLE)).toHaveLength(1);
  });
});

describe('npm run data -- dead-letters', () => {
  it('lists a parked entry without text, replays it into its session (answered as a new message), and erasure drops a person’s entries', async () => {
    const prefix = uniquePrefix();
    teardown.push(() => cleanup(prefix));
    const secret = key();
    const outlet = new RecordingOutlet();
    const bot = redisBot(prefix, new AesGcmCipher(secret), outlet, silentLogger);
    const s = 'test:replay1';
    // A parked message as the worker leaves it: stored (sealed) in the inbox, parked, dropped from it.
    const original = message(s, NORMAL);
    await bot.queue.enqueue(original);
    const [raw] = await bot.redis.lrange(bot.queue.keys.inbox(s), 0, 0);
    const seq = Number(raw!.split('|')[0]);
    const id = (await bot.dead.park(s, [{ ...original, seq }], 'TypeError', MAX_ATTEMPTS))!;
    await bot.redis.del(bot.queue.keys.inbox(s));

    const env = { ...process.env, REDIS_URL, REDIS_KEY_PREFIX: prefix, HISTORY_ENCRYPTION_KEY: secret.toString('base64'), OPERATOR: 'dana' };
    const run = async (...args: string[]) => {
      try {
        const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/data.ts', ...args], { cwd: ROOT, env });
        return { code: 0, stdout, stderr };
      } catch (err) {
        const e = err as { code: number; stdout: string; stderr: string };
        return { code: e.code, stdout: e.stdout, stderr: e.stderr };
      }
    };

    const listed = await run('dead-letters');
    expect(listed.code).toBe(0);
    const rows = listed.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows).toEqual([{ id, at: expect.any(String), session: s, reason: 'TypeError', messages: 1, attempts: MAX_ATTEMPTS }]);
    expect(listed.stdout).not.toContain(NORMAL);

    expect((await run('dead-letters', '--replay', 'nonsense')).code).toBe(1);
    expect((await run('dead-letters', '--replay', '1-0')).code).toBe(1); // no such entry
    const replayed = await run('dead-letters', '--replay', id);
    expect(replayed.code).toBe(0);
    expect(replayed.stderr).toContain(`1 message(s) queued again in session ${s}`);
    expect(await bot.dead.count()).toBe(0);
    const [again] = await bot.redis.lrange(bot.queue.keys.inbox(s), 0, -1);
    expect(Number(again!.split('|')[0])).toBeGreaterThan(seq); // a new message, after everything the session has answered
    expect(again).not.toContain(NORMAL); // sealed again
    expect((await bot.store.auditTrail(1))[0]).toMatchObject({ actor: 'operator:dana', action: 'dead-letter-replay', target: s, entry: id });

    // Sealed with a key the CLI does not know: exit 3, nothing queued, the entry kept.
    const other = message('test:replay2', 'hello');
    await new RedisTurnQueue({ client: bot.redis, prefix, cipher: new AesGcmCipher(key()) }).enqueue(other);
    const [raw2] = await bot.redis.lrange(bot.queue.keys.inbox('test:replay2'), 0, 0);
    const foreign = (await bot.dead.park('test:replay2', [{ ...other, seq: Number(raw2!.split('|')[0]) }], 'TypeError', MAX_ATTEMPTS))!;
    await bot.redis.del(bot.queue.keys.inbox('test:replay2'));
    const unreadable = await run('dead-letters', '--replay', foreign);
    expect(unreadable.code).toBe(3);
    expect(await bot.dead.get(foreign)).toBeDefined();
    expect(await bot.redis.llen(bot.queue.keys.inbox('test:replay2'))).toBe(0);

    // The normal path answers the replayed message.
    await bot.worker.start();
    expect(await reached('the replayed message answered', () => userTexts(bot.store, s), (u) => u.length > 0)).toEqual([NORMAL]);
    expect(outlet.for(s)).toHaveLength(1);

    const dropped = await run('dead-letters', '--drop', foreign);
    expect(dropped.code).toBe(0);
    expect(await bot.dead.get(foreign)).toBeUndefined();
    expect((await bot.store.auditTrail(1))[0]).toMatchObject({ actor: 'operator:dana', action: 'dead-letter-drop', target: 'test:replay2', entry: foreign });

    // Erasure of the person takes their dead letters too.
    const third = message('test:replay3', 'hello');
    await bot.worker.stop(1000); // left in the inbox, as a worker finds it
    await bot.queue.enqueue(third);
    const [raw3] = await bot.redis.lrange(bot.queue.keys.inbox('test:replay3'), 0, 0);
    expect(await bot.dead.park('test:replay3', [{ ...third, seq: Number(raw3!.split('|')[0]) }], 'TypeError', MAX_ATTEMPTS)).toBeDefined();
    const erased = await run('erase', '--user', 'test:U1');
    expect(erased.code).toBe(0);
    expect(erased.stderr).toContain('dropped 1 dead letter(s)');
    expect(await bot.dead.count()).toBe(0);
    expect((await run('dead-letters')).stdout).toBe('');

    const noRedis = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/data.ts', 'dead-letters'], { cwd: ROOT, env: { ...env, REDIS_URL: '' } }).catch((e: { code: number }) => e);
    expect((noRedis as { code: number }).code).toBe(2); // no Redis configured is a settings error
    expect((await run('--help')).stdout).toMatch(/Exit codes: .*3 a dead letter that cannot be decrypted/);
  }, 60_000);
});
