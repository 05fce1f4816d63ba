/** `npm start` as a real process: health and metrics beside Slack's events, or on PORT of their own (Discord only). */
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { FakeDiscord, message, person } from '../fakes/discord.js';
import { FakeSlack, eventCallback, sendSigned } from '../fakes/slack.js';
import { ROOT } from '../helpers.js';
import { until } from '../wait.js';

let slack: FakeSlack;
let slackApi: string;
let discord: FakeDiscord;
let discordApi: string;
beforeAll(async () => {
  slack = new FakeSlack();
  slackApi = await slack.start();
  discord = new FakeDiscord();
  discordApi = await discord.start();
});
afterAll(async () => {
  await slack.stop();
  await discord.stop();
});
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

function start(env: Record<string, string>) {
  const child = spawn('node', ['--import', 'tsx', 'adapters/main.ts'], { cwd: ROOT, env: { ...process.env, PORT: '0', LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(child);
  const out = { stderr: '' };
  child.stderr!.on('data', (d) => (out.stderr += d));
  const waitFor = (re: RegExp) =>
    until(
      () => {
        if (child.exitCode !== null) throw new Error(`exited (${child.exitCode}) before ${re}:\n${out.stderr}`);
        return re.exec(out.stderr);
      },
      { timeoutMs: 20_000, everyMs: 25, what: () => `${re}:\n${out.stderr}` },
    );
  const exit = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, out, waitFor, exit };
}

/** The scrape once the turn and its reply are counted (the counts follow the post the fake saw). */
async function metricsOnceReplied(base: string, platform: string): Promise<{ res: Response; body: string }> {
  const counted = [`^trt_turns_total\\{platform="${platform}",`, `^trt_replies_total\\{platform="${platform}"\\} [1-9]`].map((re) => new RegExp(re, 'm'));
  return until(
    async () => {
      const res = await fetch(`${base}/metrics`);
      const body = await res.text();
      return counted.every((re) => re.test(body)) && { res, body };
    },
    { timeoutMs: 5000, what: `trt_turns_total and trt_replies_total for ${platform}` },
  );
}

it('Slack over HTTP: /healthz, /readyz and /metrics on the events port; trt_turns_total after one DM; exit 0 on SIGTERM', { timeout: 40_000 }, async () => {
  const bot = start({ SLACK_BOT_TOKEN: 'xoxb-test', SLACK_SIGNING_SECRET: 'sekret', SLACK_API_URL: slackApi });
  const base = `http://127.0.0.1:${(await bot.waitFor(/"port":(\d+)/))[1]}`;
  const health = await fetch(`${base}/healthz`);
  expect(health.status).toBe(200);
  expect(await health.text()).toBe('ok\n');
  const ready = await fetch(`${base}/readyz`);
  expect(ready.status).toBe(200);
  expect(await ready.json()).toMatchObject({ status: 'ready', checks: { redis: 'off', index: 'ok', queue: 'ok', started: 'ok' } });

  const event = eventCallback({ type: 'message', channel: 'D0OPSPROC', channel_type: 'im', user: 'U0OPSPROC', text: 'hello Zanzibar', ts: '1700000400.000001' });
  expect((await sendSigned(`${base}/slack/events`, event, 'sekret')).status).toBe(200);
  await slack.waitFor('chat.postMessage');
  const { res: metrics, body } = await metricsOnceReplied(base, 'slack');
  expect(metrics.status).toBe(200);
  expect(metrics.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  expect(body).toMatch(/^trt_turns_total\{platform="slack",kind="reply",substate="[^"]+"\} 1$/m);
  expect(body).toMatch(/^trt_replies_total\{platform="slack"\} 1$/m);
  expect(body).toContain('process_resident_memory_bytes');
  expect(body).not.toMatch(/Zanzibar|U0OPSPROC|D0OPSPROC/);

  bot.child.kill('SIGTERM');
  expect(await bot.exit).toBe(0);
  expect(bot.out.stderr).not.toContain('Zanzibar');
});

it('Discord only: the routes get a server of their own on PORT, closed on SIGTERM', { timeout: 40_000 }, async () => {
  const bot = start({ DISCORD_BOT_TOKEN: 'fake.discord.token.for.tests', DISCORD_API_URL: discordApi });
  await discord.ready();
  const base = `http://127.0.0.1:${(await bot.waitFor(/"opsPort":(\d+)/))[1]}`;
  await bot.waitFor(/Discord adapter connected/);
  expect((await fetch(`${base}/healthz`)).status).toBe(200);
  expect((await fetch(`${base}/readyz`)).status).toBe(200);
  discord.dispatch('MESSAGE_CREATE', message({ channel_id: '600000000000000088', content: 'hello', author: person() }));
  await discord.waitFor('POST', /^\/channels\/600000000000000088\/messages$/);
  const { body } = await metricsOnceReplied(base, 'discord');
  expect(body).toMatch(/^trt_turns_total\{platform="discord",kind="reply",substate="[^"]+"\} 1$/m);
  expect(body).toMatch(/^trt_replies_total\{platform="discord"\} 1$/m);
  bot.child.kill('SIGTERM');
  expect(await bot.exit).toBe(0);
  await expect(fetch(`${base}/healthz`)).rejects.toThrow(); // closed with the process
});
