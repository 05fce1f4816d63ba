/**
 * Fault tests with real processes on loopback: two bot instances (`npm start`
 * as child processes) sharing a redis-server of the test's own (AOF on), a
 * fake Slack and a local OpenAI-compatible server that can hold a turn open.
 * Each test is bounded and stops what it started.
 */
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RedisSessionStore } from '../../src/index.js';
import { GROUP, QueueKeys } from '../../src/queue/redis/queue-keys.js';
import { fields } from '../../src/queue/redis/redis-turn-queue.js';
import { FakeOpenAi } from '../fakes/openai-server.js';
import { FakeSlack, eventCallback, sendSigned, type ApiCall } from '../fakes/slack.js';
import { CONFIG_DIR, DATA_DIR, ROOT, repoConfig } from '../helpers.js';
import { RedisServer, uniquePrefix } from '../redis/helpers.js';
import { pause, until } from '../wait.js';
import { BotProcess } from './bot-process.js';

const SECRET = 'queue-test-secret';
const PLACEHOLDER = '_One moment…_';
const UNAVAILABLE = repoConfig().responses.system.unavailable;
/** An emotional message: its turn retrieves examples, so it calls the embeddings server (which can hold it). */
const RETRIEVING = "I'm so angry and crying my eyes out";
/**
 * Once the queue is idle (below), how long no second reply may come: nothing is left to answer,
 * so only a post already on its way could still land.
 */
const QUIET_MS = 500;

let slack: FakeSlack;
let slackApi: string;
let llm: FakeOpenAi;
let llmBase: string;
let redis: RedisServer;
let dataDir: string;
const bots: BotProcess[] = [];
const dirs: string[] = [];

beforeAll(async () => {
  slack = new FakeSlack();
  slackApi = await slack.start();
  llm = new FakeOpenAi(1536);
  llmBase = (await llm.start()).replace(/\/v1$/, '');
  redis = await RedisServer.start(['--appendonly', 'yes', '--appendfsync', 'everysec']);
  // The instances embed through the local server, so their index is built with it.
  dataDir = mkdtempSync(join(tmpdir(), 'trt-queue-data-'));
  dirs.push(dataDir);
  cpSync(DATA_DIR, dataDir, { recursive: true });
  // Not spawnSync: the embeddings server runs in this process and must keep answering.
  const build = await new Promise<{ status: number | null; stderr: string }>((resolve) => {
    const child = spawn('node', ['--import', 'tsx', 'scripts/embeddings-build.ts', '--provider', 'openai', '--data-dir', dataDir, '--no-progress'], {
      cwd: ROOT,
      env: { ...process.env, OPENAI_BASE_URL: `${llmBase}/build/v1` },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (status) => resolve({ status, stderr }));
  });
  if (build.status !== 0) throw new Error(`index build failed: ${build.stderr}`);
}, 60_000);

afterEach(async () => {
  await Promise.all(bots.splice(0).map((b) => b.kill9()));
  llm.faults = [];
  llm.delayMs = 0;
});

afterAll(async () => {
  await slack.stop();
  await llm.stop();
  await redis.destroy();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function env(prefix: string, name: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    SLACK_BOT_TOKEN: 'xoxb-test',
    SLACK_SIGNING_SECRET: SECRET,
    SLACK_API_URL: slackApi,
    REDIS_URL: redis.url,
    REDIS_KEY_PREFIX: prefix,
    EMBEDDINGS_PROVIDER: 'openai',
    OPENAI_BASE_URL: `${llmBase}/${name}/v1`, // the path tells the server which instance called
    RESPONDER: 'offline', // the server is for embeddings: turns are held open through that call
    DATA_DIR: dataDir,
    QUEUE_CLAIM_IDLE_MS: '1500',
    QUEUE_OWNER_TTL_MS: '500',
    SESSION_LOCK_TTL_MS: '1000',
    SHUTDOWN_TIMEOUT_MS: '3000',
    ...extra,
  };
}

async function bot(prefix: string, name: string, extra: Record<string, string> = {}, args: string[] = []): Promise<BotProcess> {
  const b = await BotProcess.start(name, env(prefix, name, extra), args);
  bots.push(b);
  return b;
}

let seq = 0;
function dm(channel: string, text: string, user = 'U0PERSON') {
  return eventCallback({ type: 'message', channel, channel_type: 'im', user, text, ts: `1700001000.${String(++seq).padStart(6, '0')}` });
}

/** What a person sees in a channel: posted messages and in-place updates, placeholders left out. */
function repliesTo(channel: string): string[] {
  return slack.calls
    .filter((c: ApiCall) => (c.method === 'chat.postMessage' || c.method === 'chat.update') && c.args.channel === channel && c.args.text !== PLACEHOLDER)
    .map((c) => String(c.args.text));
}

/**
 * The last thing a no-duplicate check can see: nothing left for any worker (no wake-up waiting or
 * held, a crashed instance's included, and no inbox holding a message: a turn empties its inbox
 * after posting). Any second answer would have to come from one of those.
 */
async function queueIdle(prefix: string): Promise<boolean> {
  const c = new Redis(redis.url, { maxRetriesPerRequest: 1, lazyConnect: true });
  c.on('error', () => undefined);
  try {
    const keys = new QueueKeys(prefix);
    const groups = ((await c.xinfo('GROUPS', keys.stream).catch(() => [])) as unknown[][]).map((g) => fields(g));
    const g = groups.find((f) => f.name === GROUP);
    if (g && (Number(g.lag ?? 0) > 0 || Number(g.pending ?? 0) > 0)) return false;
    let cursor = '0';
    do {
      const [next, found] = await c.scan(cursor, 'MATCH', `${prefix}:queue:*:inbox`, 'COUNT', 500);
      if (found.length > 0) return false;
      cursor = next;
    } while (cursor !== '0');
    return true;
  } catch {
    return false; // Redis not answering (yet)
  } finally {
    c.disconnect();
  }
}

const drained = (prefix: string) => until(() => queueIdle(prefix), { timeoutMs: 20_000, everyMs: 100, what: 'the queue to be idle' });

function store(prefix: string): { store: RedisSessionStore; close: () => void } {
  const client = new Redis(redis.url, { maxRetriesPerRequest: 1 });
  return { store: new RedisSessionStore({ client, prefix }), close: () => client.disconnect() };
}

async function userTexts(s: RedisSessionStore, channel: string): Promise<string[]> {
  return (await s.history(`slack:T0TEAM:${channel}`)).filter((h) => h.role === 'user').map((h) => h.text);
}

describe('many instances, nothing lost', () => {
  it('kill -9 of the instance running a turn: the other answers it, exactly once (20 trials, 0 lost)', async () => {
    const prefix = uniquePrefix();
    const live: Record<string, BotProcess> = { a: await bot(prefix, 'a'), b: await bot(prefix, 'b') };
    const takeover: number[] = [];
    for (let t = 0; t < 20; t++) {
      const channel = `DKILL${t}`;
      const before = llm.requests.length;
      llm.faults = [{ hang: true }]; // the next embeddings call never returns: the turn is held open
      const receiver = t % 2 === 0 ? live.a! : live.b!;
      const sent = Date.now();
      expect((await sendSigned(receiver.url, dm(channel, RETRIEVING, `U0KILL${t}`), SECRET)).status).toBe(200); // one person per trial (rate limits)
      const held = await until(() => llm.requests.slice(before).find((r) => /^\/[ab]\//.test(r.path)), { timeoutMs: 10_000, what: `trial ${t}: the turn to start` }).catch((err: Error) => {
        throw new Error(`${err.message}\n--- a:\n${live.a!.stderr.slice(-3000)}\n--- b:\n${live.b!.stderr.slice(-3000)}`);
      });
      const victim = held.path.split('/')[1]!;
      await live[victim]!.kill9();
      const replacement = bot(prefix, victim);
      await until(() => repliesTo(channel).length > 0, { timeoutMs: 30_000, what: `trial ${t}: the other instance to answer` });
      takeover.push(Date.now() - sent);
      live[victim] = await replacement;
    }
    await drained(prefix);
    await pause(QUIET_MS);
    for (let t = 0; t < 20; t++) expect(repliesTo(`DKILL${t}`), `trial ${t}`).toHaveLength(1);
    expect(Math.max(...takeover)).toBeLessThan(30_000);
    const s = store(prefix);
    for (let t = 0; t < 20; t++) expect(await userTexts(s.store, `DKILL${t}`)).toEqual([RETRIEVING]);
    s.close();
  }, 240_000);

  it('a burst of 10 messages into one session, spread over two instances: history holds all 10 in arrival order', async () => {
    const prefix = uniquePrefix();
    const [a, b] = [await bot(prefix, 'a'), await bot(prefix, 'b')];
    llm.delayMs = 300; // each retrieving turn takes a while, so messages pile up behind it
    const texts = Array.from({ length: 10 }, (_, i) => `${RETRIEVING} ${i + 1}`);
    for (const [i, text] of texts.entries()) expect((await sendSigned((i % 2 ? b : a).url, dm('DBURST', text), SECRET)).status).toBe(200);
    const s = store(prefix);
    const users = await until(async () => {
      const u = await userTexts(s.store, 'DBURST');
      return u.length >= 10 && u;
    }, { timeoutMs: 20_000, everyMs: 25, what: 'all 10 messages in history' });
    expect(users).toEqual(texts);
    const bots = (await s.store.history('slack:T0TEAM:DBURST')).filter((h) => h.role === 'bot');
    s.close();
    expect(repliesTo('DBURST')).toHaveLength(bots.length); // one reply per turn
    expect(bots.length).toBeLessThan(10); // messages that arrived during a turn were answered together
  }, 60_000);

  it('a retry storm (each event delivered 4 times to both instances) gets one reply per event', async () => {
    const prefix = uniquePrefix();
    const [a, b] = [await bot(prefix, 'a'), await bot(prefix, 'b')];
    const events = Array.from({ length: 10 }, (_, i) => dm(`DSTORM${i}`, 'hello'));
    await Promise.all(
      events.flatMap((e) => [a, b].flatMap((inst) => [0, 1, 2, 3].map((retryNum) => sendSigned(inst.url, e, SECRET, retryNum ? { retryNum } : {})))),
    );
    await until(() => events.every((_, i) => repliesTo(`DSTORM${i}`).length > 0), { timeoutMs: 15_000, what: 'a reply to every event' });
    await drained(prefix);
    await pause(QUIET_MS);
    for (let i = 0; i < 10; i++) expect(repliesTo(`DSTORM${i}`), `event ${i}`).toHaveLength(1);
  }, 60_000);

  it('a limit of N messages a minute holds exactly across two instances, with one friendly reply', async () => {
    const prefix = uniquePrefix();
    const configDir = mkdtempSync(join(tmpdir(), 'trt-queue-config-'));
    dirs.push(configDir);
    cpSync(CONFIG_DIR, configDir, { recursive: true });
    const file = join(configDir, 'system', 'core_system', 'rate_limits.json');
    const limits = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    writeFileSync(file, JSON.stringify({ ...limits, per_user: { points: 5, duration_s: 60 } }));
    const [a, b] = [await bot(prefix, 'a', { CONFIG_DIR: configDir }), await bot(prefix, 'b', { CONFIG_DIR: configDir })];
    const channels = Array.from({ length: 12 }, (_, i) => `DLIMIT${i}`);
    await Promise.all(channels.map((ch, i) => sendSigned((i % 2 ? b : a).url, dm(ch, 'hello', 'U0FLOOD'), SECRET)));
    const s = store(prefix);
    await until(async () => (await Promise.all(channels.map((ch) => userTexts(s.store, ch)))).flat().length >= 5, { timeoutMs: 15_000, everyMs: 25, what: '5 turns' });
    await drained(prefix); // the other 7 messages were taken off the queue too (dropped, or one answered with the notice)
    await pause(QUIET_MS);
    const processed = (await Promise.all(channels.map((ch) => userTexts(s.store, ch)))).filter((u) => u.length > 0);
    s.close();
    expect(processed).toHaveLength(5);
    const all = channels.flatMap((ch) => repliesTo(ch));
    const notices = all.filter((t) => t.includes('faster than I can'));
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatch(/about|moment/);
    expect(all).toHaveLength(6); // 5 answers and the one notice: the other 6 messages get no reply each
  }, 60_000);

  it('redis-server (AOF on) restarted under load: everything recovers by itself, nothing acknowledged is lost', async () => {
    // Pacing: 40 messages 50 ms apart (2 s of load), Redis killed 600 ms in: about a dozen before it, the rest during and after.
    const SEND_GAP_MS = 50;
    const KILL_AFTER_MS = 600;
    const prefix = uniquePrefix();
    const [a, b] = [await bot(prefix, 'a'), await bot(prefix, 'b')];
    const channels = Array.from({ length: 40 }, (_, i) => `DRESTART${i}`);
    const sending = (async () => {
      for (const [i, ch] of channels.entries()) {
        void sendSigned((i % 2 ? b : a).url, dm(ch, i % 3 ? 'hello' : RETRIEVING, `U0LOAD${i}`), SECRET);
        await pause(SEND_GAP_MS);
      }
    })();
    await pause(KILL_AFTER_MS);
    await redis.kill(); // as abrupt as a crash, mid-load
    await redis.start(); // same port and folder: the AOF is replayed
    await sending;
    // Every message gets an answer; a message that could not be queued during the outage gets
    // the honest "try again shortly" instead (it was never acknowledged as taken).
    await until(() => channels.every((ch) => repliesTo(ch).length > 0), { timeoutMs: 40_000, what: 'an answer in every channel' }).catch((err: Error) => {
      const missing = channels.filter((ch) => repliesTo(ch).length === 0);
      const logs = (b: BotProcess) => b.stderr.split('\n').filter((l) => /"level":[45]/.test(l)).slice(-30).join('\n');
      throw new Error(`${err.message}: ${missing.join(',')}\n--- a:\n${logs(a)}\n--- b:\n${logs(b)}`);
    });
    await drained(prefix);
    await pause(QUIET_MS);
    const answered = channels.filter((ch) => !repliesTo(ch).includes(UNAVAILABLE));
    for (const ch of answered) expect(repliesTo(ch), ch).toHaveLength(1);
    expect(answered.length).toBeGreaterThan(30);
    // Recovered by itself: a new message after the restart is answered as usual.
    await sendSigned(a.url, dm('DAFTER', 'hello'), SECRET);
    await until(() => repliesTo('DAFTER').length > 0, { timeoutMs: 15_000, what: 'an answer after the restart' });
    expect(repliesTo('DAFTER')[0]).toContain('automated self-help guide');
  }, 90_000);

  it('SIGTERM finishes the running turn (or hands it over) and exits 0', async () => {
    const prefix = uniquePrefix();
    const [a, b] = [await bot(prefix, 'a'), await bot(prefix, 'b')];
    llm.delayMs = 1000;
    const before = llm.requests.length;
    await sendSigned(a.url, dm('DTERM', RETRIEVING), SECRET);
    const held = await until(() => llm.requests.slice(before).find((r) => /^\/[ab]\//.test(r.path)), { timeoutMs: 10_000, what: 'the turn to start' });
    const running = held.path.startsWith('/a/') ? a : b;
    expect(await running.terminate()).toBe(0);
    await until(() => repliesTo('DTERM').length > 0, { timeoutMs: 15_000, what: 'the reply' });
    await drained(prefix);
    await pause(QUIET_MS);
    expect(repliesTo('DTERM')).toHaveLength(1);
    expect(running.stderr).not.toContain('crying'); // no message text in the logs
  }, 60_000);

  it('--role receiver and --role worker on separate processes: the receiver queues, the worker answers', async () => {
    const prefix = uniquePrefix();
    const receiver = await bot(prefix, 'r', {}, ['--role', 'receiver']);
    const worker = await bot(prefix, 'w', {}, ['--role', 'worker']);
    await sendSigned(receiver.url, dm('DROLES', RETRIEVING, 'U0ROLES'), SECRET);
    await until(() => repliesTo('DROLES').length > 0, { timeoutMs: 15_000, what: 'the reply' });
    expect(llm.requests.some((r) => r.path.startsWith('/w/'))).toBe(true); // the worker ran the turn
    expect(llm.requests.some((r) => r.path.startsWith('/r/'))).toBe(false);
    expect(await receiver.terminate()).toBe(0);
    expect(await worker.terminate()).toBe(0);
  }, 60_000);

  it('a split role without Redis is refused with exit code 2 and a clear line', async () => {
    const child = spawn('node', ['--import', 'tsx', 'adapters/main.ts', '--role', 'worker'], {
      cwd: ROOT,
      env: { ...process.env, SLACK_BOT_TOKEN: 'xoxb-test', SLACK_SIGNING_SECRET: SECRET, REDIS_URL: '' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    expect(code).toBe(2);
    expect(stderr).toContain('--role worker needs Redis');
  }, 30_000);
});
