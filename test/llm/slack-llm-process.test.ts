/**
 * The whole path in real processes: `npm start` with Slack settings and an
 * OpenAI-compatible server; a DM is answered by the model, streamed into one
 * Slack message edited in place, and a failing model still gets the person a reply.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeOpenAi } from '../fakes/openai-server.js';
import { FakeSlack, eventCallback, sendSigned } from '../fakes/slack.js';
import { ROOT, repoConfig } from '../helpers.js';
import { until } from '../wait.js';
import { plainModel } from './llm-helpers.js';

const slack = new FakeSlack();
const llm = new FakeOpenAi();
let slackApi = '';
let llmBase = '';
let child: ChildProcess | undefined;
let stderr = '';
let port = 0;

beforeAll(async () => {
  slackApi = await slack.start();
  llmBase = await llm.start();
  child = spawn('node', ['--import', 'tsx', 'adapters/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, SLACK_BOT_TOKEN: 'xoxb-test', SLACK_SIGNING_SECRET: 'sekret', SLACK_API_URL: slackApi, PORT: '0', LOG_LEVEL: 'info', OPENAI_BASE_URL: llmBase, OPENAI_TIMEOUT_SECONDS: '3' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stderr!.on('data', (d) => (stderr += d));
  port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start-up line:\n${stderr}`)), 20_000);
    child!.stderr!.on('data', () => {
      const m = /"port":(\d+)/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
  });
}, 30_000);

afterEach(() => {
  llm.chatHandler = undefined;
  llm.chat = [];
});

afterAll(async () => {
  const exit = new Promise((r) => child?.on('exit', r));
  child?.kill('SIGTERM');
  await exit;
  await slack.stop();
  await llm.stop();
});

const dm = (channel: string, text: string, user: string) =>
  sendSigned(`http://127.0.0.1:${port}/slack/events`, eventCallback({ type: 'message', channel, channel_type: 'im', user, text, ts: `${Date.now() / 1000}` }), 'sekret');

/** Waits for `fn` to find something, showing the bot's last log lines if it never does. */
const waitFor = <T>(fn: () => T | undefined, ms: number, what: string) => until(fn, { timeoutMs: ms, everyMs: 25, what: () => `${what}\n${stderr.slice(-2000)}` });

describe('Slack + LLM, real processes', () => {
  it('streams the model reply into one message edited in place; the final text is the whole reply', async () => {
    const reply = 'Thank you for reaching out. There is no rush here. Let us start with where you want to get to. What would you like to feel instead?';
    llm.chatHandler = plainModel(reply, { chunkChars: 4, chunkDelayMs: 40 }); // about 3 s of writing
    expect((await dm('D0LLM1', 'hello Zanzibar', 'U0LLM1')).status).toBe(200);
    const final = `${repoConfig().responses.disclosure}\n\n${reply}`;
    await waitFor(() => slack.visible('D0LLM1').find((m) => m.text === final), 15_000, 'the final reply');
    const visible = slack.visible('D0LLM1');
    expect(visible).toHaveLength(1); // one message: previews and the reply are the same one
    expect(visible[0]!.edits).toBeGreaterThanOrEqual(2); // shown while being written
    expect(llm.lastChat()!.stream).toBe(true);
    expect(stderr).not.toContain('Zanzibar');
  });

  it('a model that fails still answers, with the offline line, in one message', async () => {
    llm.chat = [{ status: 400 }];
    expect((await dm('D0LLM2', 'hello', 'U0LLM2')).status).toBe(200);
    const lines = repoConfig().responses.actions.ask_goal!;
    // What the person ends up with: the offline line in one message. Under load the
    // "One moment…" placeholder can land after the reply went out as a new message; it is
    // deleted when it lands, so this waits for that state, not for a moment after the reply.
    const alone = () => {
      const visible = slack.visible('D0LLM2');
      return visible.length === 1 && lines.some((l) => visible[0]!.text.endsWith(l)) ? visible : undefined;
    };
    await waitFor(alone, 15_000, 'the offline line, alone in one message');
    expect(stderr).toContain('"reason":"http_error"');
  });
});
