/** The durable turn queue on the real Redis: order, bursts, dedupe, two workers, hand-back. */
import { afterEach, describe, expect, it } from 'vitest';
import { Engine, OfflineResponder, RedisSessionStore, silentLogger, type Responder } from '../../src/index.js';
import { QueueWorker } from '../../src/queue/redis/queue-worker.js';
import { RedisTurnQueue, fields } from '../../src/queue/redis/redis-turn-queue.js';
import { repoConfig, repoRetriever } from '../helpers.js';
import { cleanup, client, uniquePrefix } from '../redis/helpers.js';
import { pause, until } from '../wait.js';
import { message } from './message.js';
import { RecordingOutlet } from './recording-outlet.js';

const UNAVAILABLE = repoConfig().responses.system.unavailable;
/**
 * A test that asserts no second reply comes waits this long after the last event it can
 * observe: a wake-up still waiting would be read within a worker's 200 ms block and answered.
 */
const QUIET_MS = 500;
const teardown: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const t of teardown.splice(0).reverse()) await t();
});


/** One bot instance: its own Redis connections, store, engine, queue and worker, sharing a prefix. */
/**
 * Stands in for a slow LLM: the offline line after `ms` (never, for Infinity: an instance that hangs).
 * `started` and `ended` count the calls that began and that finished their slow step.
 */
function slowResponder(ms: number): Responder & { started: number; ended: number } {
  const offline = new OfflineResponder(repoConfig().responses);
  const slow = {
    name: 'slow',
    started: 0,
    ended: 0,
    usesExamples: () => false,
    respond: async (input: Parameters<Responder['respond']>[0]) => {
      slow.started++;
      await new Promise((r) => (Number.isFinite(ms) ? setTimeout(r, ms) : undefined));
      slow.ended++;
      return offline.respond(input);
    },
  };
  return slow;
}

async function instance(prefix: string, outlet: RecordingOutlet, opts: { claimIdleMs?: number; responder?: Responder } = {}) {
  const redis = client();
  const reader = client();
  const store = new RedisSessionStore({ client: redis, prefix, lockTtlMs: 1000 });
  const engine = new Engine({ config: repoConfig(), store, retriever: repoRetriever(), ...(opts.responder ? { responder: opts.responder } : {}) });
  const queue = new RedisTurnQueue({ client: redis, prefix });
  const worker = new QueueWorker({ queue, reader, runner: { engine, outlets: { test: outlet }, logger: silentLogger }, logger: silentLogger, claimIdleMs: opts.claimIdleMs ?? 2000, blockMs: 200 });
  await worker.start();
  teardown.push(async () => {
    await worker.stop(2000);
    redis.disconnect();
  });
  return { queue, worker, store, engine, redis, reader };
}

/** History of a session once it holds `count` entries (the reply is posted just before the turn is recorded). */
async function historyOf(store: RedisSessionStore, sessionId: string, count: number) {
  let h: Awaited<ReturnType<RedisSessionStore['history']>> = [];
  await until(async () => (h = await store.history(sessionId)).length >= count, { timeoutMs: 5000, everyMs: 20, what: () => `${count} history entries in ${sessionId}; got ${h.length}` });
  return h;
}

async function setup(count = 1, opts: { claimIdleMs?: number } = {}) {
  const prefix = uniquePrefix();
  teardown.push(() => cleanup(prefix));
  const outlet = new RecordingOutlet();
  const instances = [];
  for (let i = 0; i < count; i++) instances.push(await instance(prefix, outlet, opts));
  return { prefix, outlet, instances };
}

describe('Redis turn queue', () => {
  it('answers a queued message once and records it in history', async () => {
    const { outlet, instances } = await setup();
    const [a] = instances;
    expect(await a!.queue.enqueue(message('test:s1', 'hello'))).toBe('queued');
    await outlet.waitForCount(1);
    expect(outlet.for('test:s1')[0]).toContain('automated self-help guide');
    const history = await historyOf(a!.store, 'test:s1', 2);
    expect(history.map((h) => h.role)).toEqual(['user', 'bot']);
    expect((await a!.queue.depth()).pending).toBe(0);
  });

  it('the same platform id delivered 4 times to each of two instances is queued and answered once', async () => {
    const { outlet, instances } = await setup(2);
    const m = message('test:s2', 'hello');
    const results = await Promise.all(instances.flatMap((i) => [1, 2, 3, 4].map(() => i.queue.enqueue(m))));
    expect(results.filter((r) => r === 'queued')).toHaveLength(1);
    await outlet.waitForCount(1);
    expect(await historyOf(instances[0]!.store, 'test:s2', 2)).toHaveLength(2); // the turn is recorded: the last thing to see
    await pause(QUIET_MS);
    expect(outlet.replies).toHaveLength(1);
    expect(await instances[0]!.store.history('test:s2')).toHaveLength(2);
  });

  it('a burst that arrives during a turn is answered together in the next turn, in arrival order, over two instances', async () => {
    const { outlet, instances } = await setup(2);
    let open!: () => void;
    outlet.gate = new Promise<void>((r) => (open = r)); // the first reply is held: the turn stays open
    await instances[0]!.queue.enqueue(message('test:s3', 'I want to feel calm'));
    await until(() => outlet.begins > 0, { what: 'the first turn to begin' });
    for (let i = 1; i <= 9; i++) await instances[i % 2]!.queue.enqueue(message('test:s3', `burst message ${i}`));
    outlet.gate = undefined;
    open();
    await outlet.waitForCount(2);
    const users = (await historyOf(instances[1]!.store, 'test:s3', 12)).filter((h) => h.role === 'user').map((h) => h.text); // both turns recorded
    await pause(QUIET_MS);
    expect(outlet.replies).toHaveLength(2);
    expect(users).toEqual(['I want to feel calm', ...Array.from({ length: 9 }, (_, i) => `burst message ${i + 1}`)]);
  });

  it('wake-ups read while the worker owns their session are settled when its turn ends, not left for a claim idle time', async () => {
    // A claim idle time longer than the test: a wake-up left pending would stay so.
    const { outlet, instances, prefix } = await setup(1, { claimIdleMs: 60_000 });
    const [a] = instances;
    const edge = new RedisTurnQueue({ client: a!.redis, prefix }); // an instance that only receives: every message is a wake-up for a's reader
    let open!: () => void;
    outlet.gate = new Promise<void>((r) => (open = r));
    await edge.enqueue(message('test:s10', 'I want to feel calm'));
    await until(() => outlet.begins > 0, { what: 'the first turn to begin' });
    await edge.enqueue(message('test:s10', 'at work, mostly'));
    await until(async () => (await a!.queue.depth()).pending >= 2, { timeoutMs: 5000, what: 'the second wake-up to be read during the turn' });
    outlet.gate = undefined;
    open();
    await outlet.waitForCount(2);
    await until(async () => (await a!.queue.depth()).pending === 0, { timeoutMs: 5000, what: () => 'no wake-up left pending after the turns' });
    // The next message, long after: answered at once, by an ordinary read, not taken for a dead worker's.
    await edge.enqueue(message('test:s10', 'my shoulders'));
    await outlet.waitForCount(3);
    expect(a!.worker.stats.reclaimed).toBe(0);
  });

  it('many sessions over two workers: every message answered, each session in order, none twice', async () => {
    const { outlet, instances } = await setup(2);
    const sessions = Array.from({ length: 20 }, (_, i) => `test:many${i}`);
    await Promise.all(
      sessions.map(async (s, i) => {
        for (let k = 0; k < 5; k++) await instances[(i + k) % 2]!.queue.enqueue(message(s, `message ${k}`));
      }),
    );
    const deadline = Date.now() + 15_000;
    for (const s of sessions) {
      let users: string[] = [];
      await until(async () => (users = (await instances[0]!.store.history(s)).filter((h) => h.role === 'user').map((h) => h.text)).length === 5, {
        timeoutMs: Math.max(0, deadline - Date.now()),
        everyMs: 50,
        what: () => `${s}: ${users.length} of 5 answered`,
      });
      expect(users).toEqual([0, 1, 2, 3, 4].map((k) => `message ${k}`));
    }
    const turns = instances[0]!.worker.stats.turns + instances[1]!.worker.stats.turns;
    expect(outlet.replies).toHaveLength(turns); // one reply per turn, never two
    expect(turns).toBeGreaterThanOrEqual(20);
    // Wake-ups that found their session owned linger, then are claimed again and cleared: nothing piles up.
    let depth = await instances[0]!.queue.depth();
    await until(async () => {
      depth = await instances[0]!.queue.depth();
      return depth.pending === 0 && depth.waiting === 0;
    }, { timeoutMs: 8000, everyMs: 100, what: () => `an empty queue; depth ${JSON.stringify(depth)}` });
    expect(depth).toEqual({ waiting: 0, pending: 0 });
    expect(instances[0]!.worker.stats.reclaimed + instances[1]!.worker.stats.reclaimed).toBe(0); // nobody died: no take-over
  });

  it('stop() hands an unfinished session back and another instance answers it', async () => {
    const { outlet, instances } = await setup(2);
    const [a, b] = instances;
    outlet.gate = new Promise(() => undefined); // deliveries hang: a turn in progress that will not finish
    await b!.worker.stop(100); // only a may take it
    await a!.queue.enqueue(message('test:s4', 'hello'));
    await until(() => outlet.begins > 0, { what: 'the turn to begin' });
    const { unfinished } = await a!.worker.stop(200);
    expect(unfinished).toBe(1);
    a!.redis.disconnect(); // the process exits: its session lock lapses
    outlet.gate = undefined;
    const c = await instance(a!.queue.keys.prefix, outlet);
    await outlet.waitForCount(1, 5000); // picked up at once, not after the claim idle time
    expect(c.worker.stats.reclaimed).toBe(0);
  });

  it('already-answered queued messages are not answered again (a worker died after recording its turn)', async () => {
    const { outlet, instances } = await setup();
    const { engine } = instances[0]!;
    const first = await engine.handleTurn({ sessionId: 'test:s5', userId: 'U1', platform: 'test', text: '', parts: [{ seq: 10, text: 'hello' }] });
    expect(first.reply).toBeTruthy();
    const again = await engine.handleTurn({ sessionId: 'test:s5', userId: 'U1', platform: 'test', text: '', parts: [{ seq: 10, text: 'hello' }] });
    expect(again).toMatchObject({ outcome: 'ignored', why: 'answered_already', kind: 'ignored', reply: null });
    const partly = await engine.handleTurn({ sessionId: 'test:s5', userId: 'U1', platform: 'test', text: '', parts: [{ seq: 10, text: 'hello' }, { seq: 11, text: 'I want to feel calm' }] });
    expect(partly.reply).toBeTruthy();
    const users = (await instances[0]!.store.history('test:s5')).filter((h) => h.role === 'user').map((h) => h.text);
    expect(users).toEqual(['hello', 'I want to feel calm']);
    expect(outlet.replies).toHaveLength(0);
  });

  it('a turn still running at shutdown is aborted before it posts: the instance taking over gives the only reply', async () => {
    const prefix = uniquePrefix();
    teardown.push(() => cleanup(prefix));
    const outlet = new RecordingOutlet();
    const slow = slowResponder(1500);
    const a = await instance(prefix, outlet, { responder: slow });
    await a.queue.enqueue(message('test:s6', 'I want to feel calm')); // a owns it at once (fast path)
    await until(() => slow.started > 0, { what: "a's turn to be in its slow step" });
    expect((await a.worker.stop(200)).unfinished).toBe(1);
    a.redis.disconnect(); // the process exits
    await instance(prefix, outlet);
    await outlet.waitForCount(1, 8000);
    // a's slow step ends: its aborted turn would post right after, instead it posts nothing.
    await until(() => slow.ended > 0, { timeoutMs: 5000, what: "a's slow step to end" });
    await pause(QUIET_MS);
    expect(outlet.replies).toHaveLength(1);
  });

  it("a stopped worker keeps the wake-ups it found busy, so a later crash of the owner loses nothing", async () => {
    const prefix = uniquePrefix();
    teardown.push(() => cleanup(prefix));
    const outlet = new RecordingOutlet();
    const owner = await instance(prefix, outlet, { responder: slowResponder(Infinity), claimIdleMs: 1000 }); // hangs: a worker about to die
    owner.reader.disconnect(); // the owner reads no wake-ups: the other worker is the one that finds it busy
    const other = await instance(prefix, outlet, { claimIdleMs: 1000 });
    await owner.queue.enqueue(message('test:s7', 'I want to feel calm')); // owner takes it (fast path); other finds it busy
    await until(async () => (await owner.queue.depth()).pending > 0, { timeoutMs: 5000, what: 'the other worker to read the wake-up' });
    expect((await owner.queue.depth()).pending).toBe(1); // the busy wake-up, pending with the other worker
    await other.worker.stop(100); // graceful: the busy wake-up must stay claimable
    // The owner crashes: its connections drop, its ownership and lock lapse.
    (owner.worker as unknown as { timers: NodeJS.Timeout[] }).timers.forEach(clearInterval);
    owner.redis.disconnect();
    owner.reader.disconnect();
    await instance(prefix, outlet, { claimIdleMs: 1000 });
    await outlet.waitForCount(1, 10_000);
    expect(outlet.for('test:s7')).toHaveLength(1);
  });

  it('a reply the platform keeps refusing is given up after 5 tries, with an honest line, not retried for ever', async () => {
    const prefix = uniquePrefix();
    teardown.push(() => cleanup(prefix));
    const sent: string[] = [];
    let tries = 0;
    const refusing = {
      begin: () => ({
        deliver: async (text: string) => {
          if (text === UNAVAILABLE) return sent.push(text), true;
          tries++;
          return false; // the platform takes nothing of the reply
        },
        close: async () => undefined,
      }),
    };
    const redis = client();
    const store = new RedisSessionStore({ client: redis, prefix, lockTtlMs: 1000 });
    const engine = new Engine({ config: repoConfig(), store, retriever: repoRetriever() });
    const queue = new RedisTurnQueue({ client: redis, prefix });
    const worker = new QueueWorker({ queue, reader: client(), runner: { engine, outlets: { test: refusing }, logger: silentLogger }, logger: silentLogger, claimIdleMs: 400, blockMs: 200 });
    await worker.start();
    teardown.push(async () => {
      await worker.stop(1000);
      redis.disconnect();
    });
    await queue.enqueue(message('test:s8', 'hello'));
    await until(() => sent.length > 0, { timeoutMs: 10_000, everyMs: 50, what: 'the "try again" line' });
    expect(sent).toEqual([UNAVAILABLE]); // "please try again in a moment"
    expect(tries).toBe(5);
    expect(await store.history('test:s8')).toEqual([]); // nothing recorded as answered
    expect(await redis.llen(queue.keys.inbox('test:s8'))).toBe(0);
  });

  it('consumers left by crashed processes are pruned from the group, unless wake-ups are pending with them', async () => {
    const prefix = uniquePrefix();
    teardown.push(() => cleanup(prefix));
    const redis = client();
    const queue = new RedisTurnQueue({ client: redis, prefix });
    await queue.ensureGroup();
    await redis.call('XGROUP', 'CREATECONSUMER', queue.keys.stream, 'workers', 'idle-ghost');
    await redis.xadd(queue.keys.stream, '*', 's', 'test:nobody'); // a wake-up the busy ghost holds
    await redis.xreadgroup('GROUP', 'workers', 'busy-ghost', 'COUNT', 1, 'STREAMS', queue.keys.stream, '>');
    const PRUNE_IDLE_MS = 200;
    const consumers = async () => ((await redis.xinfo('CONSUMERS', queue.keys.stream, 'workers')) as unknown[][]).map((c) => fields(c));
    // Both ghosts idle past the prune threshold before the worker looks (it prunes once at start).
    await until(async () => (await consumers()).every((c) => Number(c.idle) > PRUNE_IDLE_MS), { timeoutMs: 5000, what: 'the ghosts to be idle' });
    const engine = new Engine({ config: repoConfig(), store: new RedisSessionStore({ client: redis, prefix }), retriever: repoRetriever() });
    const worker = new QueueWorker({ queue, reader: client(), runner: { engine, outlets: {}, logger: silentLogger }, logger: silentLogger, claimIdleMs: 60_000, blockMs: 200, pruneIdleMs: PRUNE_IDLE_MS });
    await worker.start();
    // The prune pass goes through the consumers in name order: once idle-ghost is gone, busy-ghost was looked at too.
    let names: string[] = [];
    await until(async () => !(names = (await consumers()).map((c) => String(c.name))).includes('idle-ghost'), { timeoutMs: 5000, what: () => `idle-ghost to be pruned; consumers: ${names.join(', ')}` });
    await worker.stop(500);
    redis.disconnect();
    expect(names).not.toContain('idle-ghost');
    expect(names).toContain('busy-ghost'); // its wake-up must stay claimable
  });
});
