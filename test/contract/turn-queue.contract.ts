/**
 * The contract every turn queue must meet, as the person writing to the bot sees it: a message
 * is answered once however often it is delivered, one session's messages in order, a burst of
 * one person's messages as one turn, sessions independent of each other, an undelivered reply
 * redone, a poison message given up honestly, and no message silently lost while stopping.
 *
 * Each implementation's test file calls `turnQueueContract` with a factory that builds one bot
 * instance (queue, engine, session store, and for Redis a worker) around the outlet and engine
 * wrapper the contract gives it. What differs by design is declared in the options, not hidden.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { NotQueuedError, QueueOutcomeUnknownError, type Engine, type EnqueueResult, type Outlet, type OutletTurn, type QueuedMessage, type RunnerDeps, type TurnQueue } from '../../src/index.js';
import { MAX_ATTEMPTS, MAX_BATCH } from '../../src/queue/turn-runner.js';
import { repoConfig } from '../helpers.js';
import { RecordingOutlet } from '../queue/recording-outlet.js';

/** The engine's honest "please try again in a moment" (the line a given-up message gets). */
export const TRY_AGAIN = repoConfig().responses.system.unavailable;
/** A message whose turn throws, as a bug on a malformed field would. */
export const POISON = 'the word that breaks the turn: zyzzyva';

/** What a queue leaves of a message it gave up (a dead letter with Redis, a log line in memory). */
export interface Parked {
  sessionId: string;
  messages: number;
  reason: string;
  attempts: number;
}

export interface QueueBot {
  queue: TurnQueue;
  /** The session's history as the bot's session store records it. */
  history(sessionId: string): Promise<Array<{ role: string; text: string; late?: boolean }>>;
  /** Messages given up after MAX_ATTEMPTS, wherever this implementation parks them. */
  parked(): Promise<Parked[]>;
  /** The bot's error-level log lines so far (messages with their session). */
  errors(): Array<{ sessionId: unknown; msg: string }>;
  /** Starts a graceful stop (the call returns at once); the promise ends when the bot has stopped and closed its connections. */
  stop(): Promise<void>;
  /** A new instance over the same durable queue (absent when nothing outlives the process); `outlets` replace the first one's. */
  restart?(outlets?: RunnerDeps['outlets']): Promise<QueueBot>;
}

export interface BotDeps {
  outlets: RunnerDeps['outlets'];
  /** Wraps the real engine (turn recording, a poison message). */
  wrap: (engine: Engine) => RunnerDeps['engine'];
}

export interface TurnQueueContractOptions {
  /** One fresh bot instance on an empty queue; retries quick (a try redone within about a second). */
  make(deps: BotDeps): Promise<QueueBot>;
  /**
   * A message enqueued while the bot is stopping: 'refuses' (NotQueuedError: it is not stored,
   * "send it again" is true) or 'stores' (stored durably and answered by the next instance).
   */
  whileStopping: 'refuses' | 'stores';
  /** A message enqueued after the bot stopped and closed its connections: the error it gets. */
  afterStopped: typeof NotQueuedError | typeof QueueOutcomeUnknownError;
  /**
   * Messages queued (acknowledged as 'queued') but not yet answered when the bot stops:
   * 'dropped' with the process, or 'kept' and answered by the next instance.
   */
  queuedAtStop: 'dropped' | 'kept';
  /**
   * A message for a platform this instance has no outlet for (no token): 'dropped' (logged; the
   * session's later messages go on) or 'kept' for an instance that has one.
   */
  noOutlet: 'dropped' | 'kept';
}

let ids = 0;
export function msg(sessionId: string, text: string, extra: Partial<QueuedMessage> = {}): QueuedMessage {
  return { id: `c${++ids}-${Math.random().toString(36).slice(2, 6)}`, sessionId, userId: 'U1', platform: 'test', text, replyTo: {}, receivedAt: Date.now(), ...extra };
}

/** Polls `probe` until `ok` (every 20 ms) or fails with what it last saw. */
export async function until<T>(what: string, probe: () => Promise<T> | T, ok: (v: T) => boolean, timeoutMs = 8000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * The platform side: records what was posted (RecordingOutlet), and per session can hold
 * deliveries open (a slow platform) or refuse the next few (a platform that is down).
 */
export class ContractOutlet implements Outlet {
  readonly rec = new RecordingOutlet();
  /** Every delivery attempt, posted or not. */
  readonly attempts: Array<{ sessionId: string; text: string; posted: boolean }> = [];
  private readonly holds = new Map<string, Promise<void>>();
  private readonly refusals = new Map<string, number>();
  /** Deliveries waiting on a hold, per session. */
  readonly waiting = new Map<string, number>();

  /** Deliveries for the session wait until the returned function is called. */
  hold(sessionId: string): () => void {
    let open!: () => void;
    this.holds.set(sessionId, new Promise<void>((r) => (open = r)));
    return () => {
      this.holds.delete(sessionId);
      open();
    };
  }

  /** The session's next `n` replies (not the "try again" line) are refused. */
  refuse(sessionId: string, n: number): void {
    this.refusals.set(sessionId, n);
  }

  begin(replyTo: Record<string, unknown>, sessionId: string): OutletTurn {
    const inner = this.rec.begin(replyTo, sessionId);
    return {
      deliver: async (text) => {
        const held = this.holds.get(sessionId);
        if (held) {
          this.waiting.set(sessionId, (this.waiting.get(sessionId) ?? 0) + 1);
          await held;
          this.waiting.set(sessionId, this.waiting.get(sessionId)! - 1);
        }
        const refuse = this.refusals.get(sessionId) ?? 0;
        if (refuse > 0 && text !== TRY_AGAIN) {
          this.refusals.set(sessionId, refuse - 1);
          this.attempts.push({ sessionId, text, posted: false });
          return false;
        }
        this.attempts.push({ sessionId, text, posted: true });
        return inner.deliver(text);
      },
      close: () => inner.close(),
    };
  }

  replies(sessionId: string): string[] {
    return this.rec.for(sessionId);
  }
}

/** The real engine, recording each turn's messages, and throwing on a turn that holds POISON. */
function recordingEngine(turns: Array<{ sessionId: string; texts: string[] }>) {
  return (engine: Engine): RunnerDeps['engine'] => ({
    handleTurn: async (input, hooks) => {
      const texts = input.parts?.map((p) => p.text) ?? [input.text];
      turns.push({ sessionId: input.sessionId, texts });
      if (texts.some((t) => t.includes(POISON))) throw new TypeError("Cannot read properties of undefined (reading 'x')");
      return engine.handleTurn(input, hooks);
    },
    crisisResponse: (t) => engine.crisisResponse(t),
    get texts() {
      return engine.texts;
    },
  });
}

export function turnQueueContract(name: string, opts: TurnQueueContractOptions): void {
  describe(`${name}: TurnQueue contract`, () => {
    const running: QueueBot[] = [];
    afterEach(async () => {
      for (const b of running.splice(0).reverse()) await b.stop().catch(() => undefined);
    });

    async function bot() {
      const outlet = new ContractOutlet();
      const turns: Array<{ sessionId: string; texts: string[] }> = [];
      const b = await opts.make({ outlets: { test: outlet }, wrap: recordingEngine(turns) });
      running.push(b);
      const users = async (s: string) => (await b.history(s)).filter((h) => h.role === 'user').map((h) => h.text);
      const answered = (s: string, n: number) => until(`${n} answered in ${s}`, () => users(s), (u) => u.length >= n);
      const turnsOf = (s: string) => turns.filter((t) => t.sessionId === s).map((t) => t.texts);
      return { b, outlet, turns, users, answered, turnsOf };
    }

    it('a message delivered many times is queued and answered once; the same id in another session is another message', async () => {
      const { b, outlet, users, answered } = await bot();
      const m = msg('test:dup', 'hello');
      const results: EnqueueResult[] = [await b.queue.enqueue(m), await b.queue.enqueue(m)];
      results.push(...(await Promise.all([1, 2, 3].map(() => b.queue.enqueue(m)))));
      expect(results.filter((r) => r === 'queued')).toHaveLength(1);
      expect(results[0]).toBe('queued');
      await answered('test:dup', 1);
      expect(await b.queue.enqueue(m)).toBe('duplicate'); // redelivered after it was answered
      // A later message of the session: any second answer to the duplicate would come before it.
      await b.queue.enqueue(msg('test:dup', 'I want to feel calm'));
      await answered('test:dup', 2);
      expect(await users('test:dup')).toEqual(['hello', 'I want to feel calm']);
      expect(outlet.replies('test:dup').filter((r) => r.includes('automated self-help guide'))).toHaveLength(1); // one first reply
      expect(await b.queue.enqueue({ ...m, sessionId: 'test:dup2' })).toBe('queued');
      await answered('test:dup2', 1);
      expect(await users('test:dup2')).toEqual(['hello']);
    });

    it("one session's messages are answered in arrival order, whoever sent them", async () => {
      const { b, users, answered } = await bot();
      const sent: string[] = [];
      for (let i = 0; i < 8; i++) {
        const text = `message ${i}`;
        sent.push(text);
        await b.queue.enqueue(msg('test:order', text, { userId: i % 3 === 2 ? 'U2' : 'U1' }));
      }
      await answered('test:order', 8);
      expect(await users('test:order')).toEqual(sent);
    });

    it("a burst of one person's messages that arrives during a turn is answered as one turn, in order", async () => {
      const { b, outlet, answered, turnsOf, users } = await bot();
      const s = 'test:burst';
      const release = outlet.hold(s);
      await b.queue.enqueue(msg(s, 'I want to feel calm'));
      await until('the first turn to reach its delivery', () => outlet.waiting.get(s) ?? 0, (n) => n === 1);
      const burst = [1, 2, 3, 4, 5].map((i) => `and another thing ${i}`);
      for (const t of burst) await b.queue.enqueue(msg(s, t));
      release();
      await answered(s, 6);
      expect(turnsOf(s)).toEqual([['I want to feel calm'], burst]);
      expect(outlet.replies(s)).toHaveLength(2); // one reply per turn
      expect(await users(s)).toEqual(['I want to feel calm', ...burst]);
    });

    it("messages are answered in the platform's order however they arrived; one that arrives after a later one was answered is answered next, marked late", async () => {
      const { b, outlet, answered, turnsOf, users } = await bot();
      const s = 'test:platform-order';
      const at = (n: number) => ({ order: String(1_700_000_000_000_000 + n).padStart(20, '0') });
      const release = outlet.hold(s);
      await b.queue.enqueue(msg(s, 'typed fifth', at(5)));
      await until('the first turn to reach its delivery', () => outlet.waiting.get(s) ?? 0, (n) => n === 1);
      // Typed 6, 7, 8, 9; reached the queue 9, 7, 8, 6 (two instances, different paths).
      for (const n of [9, 7, 8, 6]) await b.queue.enqueue(msg(s, `typed ${['sixth', 'seventh', 'eighth', 'ninth'][n - 6]}`, at(n)));
      release();
      await answered(s, 5);
      expect(turnsOf(s)).toEqual([['typed fifth'], ['typed sixth', 'typed seventh', 'typed eighth', 'typed ninth']]);
      // Typed before all of them, arrived after they were answered: answered all the same, marked late.
      await b.queue.enqueue(msg(s, 'typed third', at(3)));
      await answered(s, 6);
      expect(await users(s)).toEqual(['typed fifth', 'typed sixth', 'typed seventh', 'typed eighth', 'typed ninth', 'typed third']);
      const late = (await b.history(s)).filter((h) => h.role === 'user' && h.late).map((h) => h.text);
      expect(late).toEqual(['typed third']);
      expect(outlet.replies(s)).toHaveLength(3);
    });

    it('a burst is split where the person changes (a shared thread): each turn is one person\'s run of messages', async () => {
      const { b, outlet, answered, turnsOf, users } = await bot();
      const s = 'test:thread';
      const release = outlet.hold(s);
      await b.queue.enqueue(msg(s, 'hello', { userId: 'A' }));
      await until('the first turn to reach its delivery', () => outlet.waiting.get(s) ?? 0, (n) => n === 1);
      const rest: Array<[string, string]> = [['A', 'a one'], ['A', 'a two'], ['B', 'b one'], ['A', 'a three']];
      for (const [userId, text] of rest) await b.queue.enqueue(msg(s, text, { userId }));
      release();
      await answered(s, 5);
      expect(turnsOf(s)).toEqual([['hello'], ['a one', 'a two'], ['b one'], ['a three']]);
      expect(await users(s)).toEqual(['hello', 'a one', 'a two', 'b one', 'a three']);
      expect(outlet.replies(s)).toHaveLength(4);
    });

    it('different sessions do not wait for each other: one held open does not delay another', async () => {
      const { b, outlet, answered } = await bot();
      const release = outlet.hold('test:slow');
      await b.queue.enqueue(msg('test:slow', 'hello'));
      await until('the slow turn to reach its delivery', () => outlet.waiting.get('test:slow') ?? 0, (n) => n === 1);
      for (let i = 0; i < 3; i++) await b.queue.enqueue(msg(`test:fast${i}`, 'hello'));
      for (let i = 0; i < 3; i++) await answered(`test:fast${i}`, 1);
      expect(outlet.replies('test:slow')).toEqual([]); // still held
      release();
      await answered('test:slow', 1);
      expect(outlet.replies('test:slow')).toHaveLength(1);
    });

    it('a turn whose reply cannot be delivered is redone, and the message answered once', async () => {
      const { b, outlet, answered, users, turnsOf } = await bot();
      const s = 'test:undelivered';
      outlet.refuse(s, 2);
      await b.queue.enqueue(msg(s, 'I want to feel calm'));
      await answered(s, 1);
      expect(outlet.attempts.filter((a) => a.sessionId === s).map((a) => a.posted)).toEqual([false, false, true]);
      expect(turnsOf(s)).toEqual([['I want to feel calm'], ['I want to feel calm'], ['I want to feel calm']]);
      await b.queue.enqueue(msg(s, 'work is hectic'));
      await answered(s, 2);
      expect(await users(s)).toEqual(['I want to feel calm', 'work is hectic']);
      expect(outlet.replies(s)).toHaveLength(2); // one posted reply per message, none twice
      expect((await b.history(s)).map((h) => h.role)).toEqual(['user', 'bot', 'user', 'bot']);
      expect(await b.parked()).toEqual([]);
    });

    it(`a message whose turn throws is given up after ${MAX_ATTEMPTS} tries with one "try again" line, parked, and the session goes on`, async () => {
      const { b, outlet, answered, users, turnsOf } = await bot();
      const s = 'test:poison';
      await b.queue.enqueue(msg(s, `${POISON} and more`));
      await b.queue.enqueue(msg(s, 'I want to feel calm'));
      await answered(s, 1);
      expect(await users(s)).toEqual(['I want to feel calm']);
      expect(turnsOf(s).filter((t) => t.some((x) => x.includes(POISON)))).toHaveLength(MAX_ATTEMPTS);
      expect(outlet.replies(s).filter((r) => r === TRY_AGAIN)).toHaveLength(1);
      expect(outlet.replies(s)).toHaveLength(2); // the "try again" line, then the next message's reply
      expect(outlet.replies(s)[0]).toBe(TRY_AGAIN);
      const parked = await until('the message parked', () => b.parked(), (p) => p.length > 0);
      expect(parked).toEqual([{ sessionId: s, messages: 1, reason: 'TypeError', attempts: MAX_ATTEMPTS }]); // the poison alone
      // And the session keeps going afterwards.
      await b.queue.enqueue(msg(s, 'work is hectic'));
      await answered(s, 2);
      expect(await users(s)).toEqual(['I want to feel calm', 'work is hectic']);
      expect(outlet.replies(s).filter((r) => r === TRY_AGAIN)).toHaveLength(1);
    });

    it(`at most ${MAX_BATCH} messages are answered in one turn; the rest of a long burst in the next, in order`, async () => {
      const { b, outlet, answered, turnsOf } = await bot();
      const s = 'test:long-burst';
      const release = outlet.hold(s);
      await b.queue.enqueue(msg(s, 'hello'));
      await until('the first turn to reach its delivery', () => outlet.waiting.get(s) ?? 0, (n) => n === 1);
      const burst = Array.from({ length: MAX_BATCH + 5 }, (_, i) => `line ${i}`);
      for (const t of burst) await b.queue.enqueue(msg(s, t));
      release();
      await answered(s, burst.length + 1);
      expect(turnsOf(s)).toEqual([['hello'], burst.slice(0, MAX_BATCH), burst.slice(MAX_BATCH)]);
      expect(outlet.replies(s)).toHaveLength(3);
    });

    it(`a reply the platform keeps refusing is given up after ${MAX_ATTEMPTS} tries with one "try again" line, and the session goes on`, async () => {
      const { b, outlet, answered, users } = await bot();
      const s = 'test:refusing';
      outlet.refuse(s, MAX_ATTEMPTS);
      await b.queue.enqueue(msg(s, 'hello'));
      await until('the "try again" line', () => outlet.replies(s), (r) => r.length > 0);
      expect(outlet.replies(s)).toEqual([TRY_AGAIN]);
      expect(outlet.attempts.filter((a) => a.sessionId === s && !a.posted)).toHaveLength(MAX_ATTEMPTS);
      expect(await b.history(s)).toEqual([]); // nothing recorded as answered
      expect(await until('the message parked', () => b.parked(), (p) => p.length > 0)).toEqual([{ sessionId: s, messages: 1, reason: 'UNAVAILABLE', attempts: MAX_ATTEMPTS }]);
      await b.queue.enqueue(msg(s, 'I want to feel calm'));
      await answered(s, 1);
      expect(await users(s)).toEqual(['I want to feel calm']);
      expect(outlet.replies(s)).toHaveLength(2);
    });

    const atStopCase =
      opts.queuedAtStop === 'dropped'
        ? 'messages queued behind a turn when the bot stops are dropped with it, unanswered and untold'
        : 'messages queued behind a turn when the bot stops are answered, once, by the next instance';
    it(atStopCase, async () => {
      const { b, outlet, users } = await bot();
      const s = 'test:at-stop';
      const release = outlet.hold(s);
      await b.queue.enqueue(msg(s, 'hello'));
      await until('the turn to reach its delivery', () => outlet.waiting.get(s) ?? 0, (n) => n === 1);
      expect(await b.queue.enqueue(msg(s, 'I want to feel calm'))).toBe('queued'); // acknowledged: the person expects an answer
      const stopped = b.stop();
      release();
      await stopped;
      expect(outlet.replies(s)).toHaveLength(1);
      if (opts.queuedAtStop === 'dropped') {
        expect(await users(s)).toEqual(['hello']);
        expect(b.restart).toBeUndefined(); // nothing outlives the process
      } else {
        const next = await b.restart!();
        running.push(next);
        const texts = async () => (await next.history(s)).filter((h) => h.role === 'user').map((h) => h.text);
        await until('the message queued at stop answered', texts, (u) => u.length === 2);
        expect(await texts()).toEqual(['hello', 'I want to feel calm']);
        expect(outlet.replies(s)).toHaveLength(2);
      }
    });

    const noOutletCase =
      opts.noOutlet === 'dropped'
        ? 'a message for a platform this instance cannot post to is dropped (no "try again"), and the session\'s next message is answered'
        : 'a message for a platform this instance cannot post to is kept, in order, for an instance that can';
    it(noOutletCase, async () => {
      const { b, outlet, users, answered } = await bot();
      const s = 'test:no-outlet';
      await b.queue.enqueue(msg(s, 'hello from elsewhere', { platform: 'elsewhere' }));
      await b.queue.enqueue(msg(s, 'I want to feel calm'));
      if (opts.noOutlet === 'dropped') {
        await until('the drop logged', () => b.errors().filter((e) => e.sessionId === s), (e) => e.length === 1);
        await answered(s, 1);
        expect(await users(s)).toEqual(['I want to feel calm']);
        expect(outlet.replies(s)).toHaveLength(1);
        expect(await b.parked()).toEqual([]);
      } else {
        const elsewhere = new ContractOutlet();
        await until('three failed tries logged (retried, not dropped)', () => b.errors().filter((e) => e.sessionId === s), (e) => e.length >= 3);
        await b.stop();
        expect(outlet.replies(s)).toEqual([]); // nothing could be posted for the head; the next one waits behind it
        const next = await b.restart!({ test: outlet, elsewhere });
        running.push(next);
        const texts = async () => (await next.history(s)).filter((h) => h.role === 'user').map((h) => h.text);
        await until('both answered by an instance with the outlet', texts, (u) => u.length === 2);
        expect(await texts()).toEqual(['hello from elsewhere', 'I want to feel calm']);
        expect(elsewhere.replies(s)).toHaveLength(1);
        expect(outlet.replies(s)).toHaveLength(1);
      }
    });

    const stoppingCase =
      opts.whileStopping === 'refuses'
        ? 'enqueue while stopping refuses with NotQueuedError (not stored: "send it again" is true); the turn in progress still finishes'
        : 'enqueue while stopping stores the message, and the next instance answers it once; the turn in progress still finishes';
    it(stoppingCase, async () => {
      const { b, outlet } = await bot();
      const s = 'test:stopping';
      const release = outlet.hold(s);
      await b.queue.enqueue(msg(s, 'hello'));
      await until('the turn to reach its delivery', () => outlet.waiting.get(s) ?? 0, (n) => n === 1);
      const stopped = b.stop();
      const late = msg(s, 'I want to feel calm');
      const outcome = await b.queue.enqueue(late).then((r) => r, (err: unknown) => err);
      release();
      await stopped;
      expect(outlet.replies(s)).toHaveLength(1); // the turn in progress was answered
      if (opts.whileStopping === 'refuses') {
        expect(outcome).toBeInstanceOf(NotQueuedError);
      } else {
        expect(outcome).toBe('queued');
        const next = await b.restart!();
        running.push(next);
        const users = async () => (await next.history(s)).filter((h) => h.role === 'user').map((h) => h.text);
        await until('the message stored while stopping answered', users, (u) => u.length === 2);
        expect(await users()).toEqual(['hello', 'I want to feel calm']);
        expect(await next.queue.enqueue(late)).toBe('duplicate');
      }
    });

    it(`enqueue after the bot stopped and closed its connections throws ${opts.afterStopped.name}`, async () => {
      const { b } = await bot();
      await b.stop();
      await expect(b.queue.enqueue(msg('test:after', 'hello'))).rejects.toBeInstanceOf(opts.afterStopped);
    });
  });
}
