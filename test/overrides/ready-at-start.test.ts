/**
 * Ready means ready: an experiment is set, an instance (`npm start`, a real process) is
 * started, and a message is sent the moment its port opens. It must be answered in its
 * arm and counted in that arm, never on the base config of a half-started instance.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readCounts } from '../../src/analytics/reader.js';
import { RedisOverrideStore } from '../../src/overrides/redis-override-store.js';
import { FakeSlack, eventCallback, sendSigned } from '../fakes/slack.js';
import { ROOT } from '../helpers.js';
import { cleanup, client, freePort, REDIS_URL, uniquePrefix } from '../redis/helpers.js';
import { until } from '../wait.js';

const SECRET = 'ready-secret';
const WARM = 'Warm welcome. What would you like to feel?';
const prefix = uniquePrefix();
const redis = client();
let slack: FakeSlack;
let slackApi: string;
let child: ChildProcess | undefined;
let stderr = '';

beforeAll(async () => {
  slack = new FakeSlack();
  slackApi = await slack.start();
});

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child!.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }
  await slack.stop();
  await cleanup(prefix);
  redis.disconnect();
});

it('a message sent the moment the port opens gets its experiment arm and is counted in it', async () => {
  const store = new RedisOverrideStore({ client: redis, prefix });
  await store.set({ kind: 'experiment', name: 'tone' }, { split: { warm: 100 }, arms: { warm: { config: { responses: { actions: { ask_goal: [WARM] } } } } } }, 'tester');
  const port = await freePort();
  child = spawn('node', ['--import', 'tsx', 'adapters/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, SLACK_BOT_TOKEN: 'xoxb-test', SLACK_SIGNING_SECRET: SECRET, SLACK_API_URL: slackApi, PORT: String(port), REDIS_URL, REDIS_KEY_PREFIX: prefix, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr!.on('data', (d) => (stderr += d));
  const body = eventCallback({ type: 'message', channel: 'D0READY', channel_type: 'im', user: 'U0READY', text: 'hello', ts: '1700003000.000001' });
  // Knock until the port opens; the first request that gets through is the message.
  const accepted = await until(
    async () => {
      if (child!.exitCode !== null) throw new Error(`the instance exited (${child!.exitCode}):\n${stderr}`);
      return sendSigned(`http://127.0.0.1:${port}/slack/events`, body, SECRET).catch(() => undefined);
    },
    { timeoutMs: 30_000, everyMs: 5, what: () => `the port to open:\n${stderr}` },
  );
  expect(accepted.status).toBe(200);
  const reply = await until(() => slack.of('chat.postMessage').find((c) => c.args.channel === 'D0READY' && String(c.args.text).includes('feel')), {
    timeoutMs: 15_000,
    what: () => `the reply:\n${stderr.slice(-2000)}`,
  });
  expect(String(reply.args.text)).toContain(WARM); // the arm's line, not the base config's
  const now = new Date();
  const counted = await until(
    async () => {
      const rows = await readCounts(redis, prefix, { scope: { experiment: 'tone' }, from: new Date(now.getTime() - 3_600_000), to: now, granularity: 'day' });
      return rows.find((r) => r.arm === 'warm' && (r.counts.sessions ?? 0) >= 1);
    },
    { timeoutMs: 10_000, everyMs: 100, what: 'the session to be counted in its arm' },
  );
  expect(counted.counts.sessions).toBe(1);
}, 60_000);
