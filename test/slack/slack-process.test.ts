/** `npm start` with Slack settings: the real process serves signed events, replies, and exits 0 on SIGTERM. */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { FakeSlack, eventCallback, sendSigned } from '../fakes/slack.js';
import { ROOT } from '../helpers.js';
import { pause, until } from '../wait.js';

let fake: FakeSlack;
let apiUrl: string;
beforeAll(async () => {
  fake = new FakeSlack();
  apiUrl = await fake.start();
});
afterAll(async () => fake.stop());

/** After a failure was logged, how long the process must stay up: a crash from it (an unhandled rejection) would come well within this. */
const CRASH_QUIET_MS = 500;

/** `npm start`'s entry point with Slack HTTP settings; resolves once it logs its port. */
async function startBot(slackApiUrl: string, env: Record<string, string> = {}) {
  const child = spawn('node', ['--import', 'tsx', 'adapters/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, REDIS_URL: '', SLACK_BOT_TOKEN: 'xoxb-test', SLACK_SIGNING_SECRET: 'sekret', SLACK_API_URL: slackApiUrl, PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = { stderr: '' };
  child.stderr.on('data', (d) => (out.stderr += d));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start-up line:\n${out.stderr}`)), 15_000);
    child.stderr.on('data', () => {
      const m = /"port":(\d+)/.exec(out.stderr);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
  });
  return { child, port, out };
}

it('serves Slack in HTTP mode from npm start and shuts down cleanly on SIGTERM', async () => {
  const { child, port, out } = await startBot(apiUrl);
  const { status } = await sendSigned(`http://127.0.0.1:${port}/slack/events`, eventCallback({ type: 'message', channel: 'D0PROC', channel_type: 'im', user: 'U0P', text: 'hello Zanzibar', ts: '1700000200.000001' }), 'sekret');
  expect(status).toBe(200);
  await fake.waitFor('chat.postMessage');
  const exit = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  child.kill('SIGTERM');
  expect(await exit).toBe(0);
  expect(out.stderr).not.toContain('Zanzibar'); // no message text in the logs
});

it('keeps running when Slack cannot be reached at start-up (no crash), and serves /healthz', async () => {
  const { freePort } = await import('../redis/helpers.js');
  const closed = await freePort(); // nothing listens there
  const { child, port, out } = await startBot(`http://127.0.0.1:${closed}/api/`);
  let exited: number | null | undefined;
  child.on('exit', (code) => (exited = code));
  // An event arrives while Slack is unreachable: that event fails (Slack would retry it), the process lives on.
  await sendSigned(`http://127.0.0.1:${port}/slack/events`, eventCallback({ type: 'message', channel: 'D0DOWN', channel_type: 'im', user: 'U0D', text: 'hello', ts: '1700000300.000001' }), 'sekret').catch(() => undefined);
  // Its reply failed to go out (auth.test and the post both failed) and the turn was put back for a retry.
  await until(() => exited !== undefined || out.stderr.includes('the turn will be redone'), { timeoutMs: 15_000, what: () => `the failed delivery to be logged:\n${out.stderr}` });
  await pause(CRASH_QUIET_MS);
  expect(exited).toBeUndefined();
  expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
  const exit = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  child.kill('SIGTERM');
  expect(await exit).toBe(0);
}, 40_000);

it('with SHUTDOWN_DRAIN_MS, /readyz answers 503 after SIGTERM while the port still serves, then the process exits 0', async () => {
  const { child, port } = await startBot(apiUrl, { SHUTDOWN_DRAIN_MS: '1000' });
  expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
  const exit = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  child.kill('SIGTERM');
  const seen: string[] = [];
  for (let i = 0; i < 400; i++) {
    const r = await fetch(`http://127.0.0.1:${port}/readyz`).then((res) => String(res.status), (e: Error) => (e.cause as { code?: string } | undefined)?.code ?? 'error');
    if (seen.at(-1) !== r) seen.push(r);
    if (r !== '200' && r !== '503') break;
    await new Promise((res) => setTimeout(res, 10));
  }
  expect(await exit).toBe(0);
  // Ready, then draining (503) while still listening, then gone.
  expect(seen.indexOf('503')).toBeGreaterThanOrEqual(0);
  expect(seen.at(-1)).not.toBe('503');
}, 40_000);

it('survives the bodies that crashed it (a signed JSON null, payload=null) and logs only JSON', async () => {
  const { child, port, out } = await startBot(apiUrl);
  let exited: number | null | undefined;
  child.on('exit', (code) => (exited = code));
  const url = `http://127.0.0.1:${port}/slack/events`;
  const { createHmac } = await import('node:crypto');
  const signed = (raw: string, type: string) => {
    const stamp = Math.floor(Date.now() / 1000);
    return fetch(url, { method: 'POST', headers: { 'content-type': type, 'x-slack-request-timestamp': String(stamp), 'x-slack-signature': `v0=${createHmac('sha256', 'sekret').update(`v0:${stamp}:${raw}`).digest('hex')}` }, body: raw });
  };
  expect((await signed('null', 'application/json')).status).toBeLessThan(500);
  expect((await signed('payload=null', 'application/x-www-form-urlencoded')).status).toBeLessThan(500);
  expect((await signed('{"type":"event_callback","team_id":"T0TEAM","event_id":"Ev1","event":null}', 'application/json')).status).toBe(200);
  // Still serving: a DM after them is answered.
  const before = fake.of('chat.postMessage').length;
  await sendSigned(url, eventCallback({ type: 'message', channel: 'D0CRASH', channel_type: 'im', user: 'U0C', text: 'hello', ts: '1700000400.000001' }), 'sekret');
  await fake.waitFor('chat.postMessage', before + 1);
  expect(exited).toBeUndefined();
  const exit = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  child.kill('SIGTERM');
  expect(await exit).toBe(0);
  for (const line of out.stderr.split('\n').filter(Boolean)) expect(() => JSON.parse(line), line).not.toThrow();
  expect(out.stderr).toContain('Slack request dropped at the edge');
}, 40_000);
