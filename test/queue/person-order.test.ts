/**
 * The person's order: two bot instances (`npm start`, real processes) on a redis-server of
 * the test's own, default settings. A burst typed within 100 ms reaches the two instances
 * alternately; history must hold it in the order it was typed (Slack `ts`), however the
 * messages reached Redis. A message that arrives after later ones were answered is still
 * answered, marked late.
 */
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RedisSessionStore } from '../../src/index.js';
import { FakeSlack, eventCallback, sendSigned } from '../fakes/slack.js';
import { RedisServer, uniquePrefix } from '../redis/helpers.js';
import { pause, until } from '../wait.js';
import { BotProcess } from './bot-process.js';

const SECRET = 'order-secret';
/** Gap between two messages of a burst: ten of them within 100 ms. */
const TYPING_GAP_MS = 10;
/** Instance b's path is slower (another load balancer hop, a retry): its messages reach it this much later. */
const SLOW_PATH_MS = 50;

let slack: FakeSlack;
let slackApi: string;
let redis: RedisServer;
const bots: BotProcess[] = [];

beforeAll(async () => {
  slack = new FakeSlack();
  slackApi = await slack.start();
  redis = await RedisServer.start();
}, 30_000);

afterEach(async () => {
  await Promise.all(bots.splice(0).map((b) => b.kill9()));
});

afterAll(async () => {
  await slack.stop();
  await redis.destroy();
});

async function bot(prefix: string, name: string): Promise<BotProcess> {
  const b = await BotProcess.start(name, { SLACK_BOT_TOKEN: 'xoxb-test', SLACK_SIGNING_SECRET: SECRET, SLACK_API_URL: slackApi, REDIS_URL: redis.url, REDIS_KEY_PREFIX: prefix });
  bots.push(b);
  return b;
}

/** A Slack `ts` for the moment `ms` (epoch), unique per message: what Slack stamps as it is typed. */
let tick = 0;
function tsAt(ms: number): string {
  const micros = (ms % 1000) * 1000 + (++tick % 1000);
  return `${Math.floor(ms / 1000)}.${String(micros).padStart(6, '0')}`;
}

describe("the person's order", () => {
  it('a burst of 10 typed within 100 ms, received alternately by two instances, is recorded in typed order (20 of 20 runs); a late message is answered, marked late', async () => {
    const prefix = uniquePrefix();
    const a = await bot(prefix, 'a');
    const b = await bot(prefix, 'b');
    const client = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    const store = new RedisSessionStore({ client, prefix });
    const history = (channel: string) => store.history(`slack:T0TEAM:${channel}`);
    try {
      // One message through each instance first: an instance's very first request is slower
      // (module warm-up, the scripts' first load) than the order window covers (docs/queue.md).
      for (const [i, via] of [a, b].entries()) {
        const body = eventCallback({ type: 'message', channel: `DWARM${i}`, channel_type: 'im', user: `U0WARM${i}`, text: 'hello', ts: tsAt(Date.now()) });
        expect((await sendSigned(via.url, body, SECRET)).status).toBe(200);
        await until(async () => (await history(`DWARM${i}`)).some((e) => e.role === 'bot'), { timeoutMs: 20_000, what: 'the warm-up reply' });
      }
      for (let r = 0; r < 20; r++) {
        const channel = `DORD${r}`;
        const typed: string[] = [];
        const sends: Array<Promise<unknown>> = [];
        const firstAt = Date.now();
        for (let i = 0; i < 10; i++) {
          const text = `message ${i + 1} of run ${r}`;
          typed.push(text);
          const body = eventCallback({ type: 'message', channel, channel_type: 'im', user: `U0ORD${r}`, text, ts: tsAt(Date.now()) });
          // Not awaited: the person keeps typing while the instances take the messages. Through b
          // they arrive later, so Redis sees them out of order (1, 3, 2, 5, 4...).
          const via = i % 2 === 0 ? a : b;
          sends.push(via === b ? pause(SLOW_PATH_MS).then(() => sendSigned(b.url, body, SECRET)) : sendSigned(a.url, body, SECRET));
          await pause(TYPING_GAP_MS);
        }
        await Promise.all(sends);
        const users = await until(
          async () => {
            const u = (await history(channel)).filter((e) => e.role === 'user');
            return u.length >= 10 && u;
          },
          { timeoutMs: 20_000, what: `run ${r}: all 10 recorded` },
        );
        // On failure: the turns as recorded (message numbers, R for each reply).
        const turns = (await history(channel)).map((e) => (e.role === 'user' ? e.text.split(' ')[1] : 'R')).join(' ');
        expect(users.map((e) => e.text), `run ${r}: ${turns}`).toEqual(typed);
        expect(users.some((e) => e.late), `run ${r}`).toBe(false);

        // Typed before the whole burst, but reached us after it was answered (a delayed retry).
        if (r === 0) {
          const late = eventCallback({ type: 'message', channel, channel_type: 'im', user: `U0ORD${r}`, text: 'typed before all of them', ts: tsAt(firstAt - 1000) });
          expect((await sendSigned(b.url, late, SECRET)).status).toBe(200);
          const entry = await until(async () => (await history(channel)).find((e) => e.role === 'user' && e.text === 'typed before all of them'), {
            timeoutMs: 20_000,
            what: 'the late message to be answered',
          });
          expect(entry.late).toBe(true);
          const entries = await history(channel);
          expect(entries.at(-1)!.role).toBe('bot'); // it got its reply
        }
      }
    } finally {
      client.disconnect();
    }
  }, 240_000);
});
