/**
 * A Redis restart under `npm start`: every line on stderr stays a pino JSON line (ioredis's
 * plain-text "Unhandled error event" traces came from connections without an error
 * listener), the trouble is logged briefly, and the bot answers again afterwards.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { FakeSlack, eventCallback, sendSigned } from '../fakes/slack.js';
import { BotProcess } from '../queue/bot-process.js';
import { RedisServer, uniquePrefix } from '../redis/helpers.js';
import { until } from '../wait.js';

const SECRET = 'restart-secret';
let slack: FakeSlack;
let slackApi: string;
let redis: RedisServer;
beforeAll(async () => {
  slack = new FakeSlack();
  slackApi = await slack.start();
  redis = await RedisServer.start(['--appendonly', 'yes', '--appendfsync', 'everysec']);
});
afterAll(async () => {
  await slack.stop();
  await redis.destroy();
});

it('a Redis restart leaves only JSON lines on stderr, and the bot answers again after it', async () => {
  const bot = await BotProcess.start('restart', { SLACK_BOT_TOKEN: 'xoxb-test', SLACK_SIGNING_SECRET: SECRET, SLACK_API_URL: slackApi, REDIS_URL: redis.url, REDIS_KEY_PREFIX: uniquePrefix(), RESPONDER: 'offline' });
  try {
    await redis.kill();
    // Down until its connections have reported it (and tried to reconnect: that is what logged).
    await until(() => bot.stderr.includes('Redis connection error'), { timeoutMs: 15_000, what: 'the connection error line' });
    await redis.start();
    await until(() => bot.stderr.includes('Redis connection ready again'), { timeoutMs: 15_000, what: 'the ready-again line' });
    const before = slack.of('chat.postMessage').length;
    const res = await sendSigned(bot.url, eventCallback({ type: 'message', channel: 'D0AFTER', channel_type: 'im', user: 'U0P', text: 'hello', ts: '1700000500.000001' }), SECRET);
    expect(res.status).toBe(200);
    await slack.waitFor('chat.postMessage', before + 1, 15_000);
  } finally {
    await bot.terminate();
  }
  expect(bot.stderr).not.toContain('Unhandled error event');
  for (const line of bot.stderr.split('\n').filter(Boolean)) expect(() => JSON.parse(line), line).not.toThrow();
  // Briefly: at most a line every 10 s per connection while it lasted, not one per reconnect attempt.
  expect(bot.stderr.split('\n').filter((l) => l.includes('Redis connection error')).length).toBeLessThanOrEqual(4);
}, 60_000);
