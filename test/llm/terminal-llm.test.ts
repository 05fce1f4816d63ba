/** The LLM responder from `npm start` (settings only) and streamed in the terminal chat. */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runTerminalChat } from '../../adapters/terminal/terminal-chat.js';
import { npmStart } from '../helpers.js';
import { llmEngine, plainModel, useFakeOpenAi } from './llm-helpers.js';

const { fake, url } = useFakeOpenAi();


describe('LLM from settings', () => {
  it('OPENAI_BASE_URL alone turns the LLM on; a failing model still answers, and logs the reason without message text', async () => {
    fake.chat = [{ content: JSON.stringify({ risk: false, criteria_met: [], action: 'ask_goal', reply: 'From the model: how would you like to feel?' }) }, { status: 400 }];
    const { code, stdout, stderr } = await npmStart('hello there\nmy secret worry about Zanzibar\n', { OPENAI_BASE_URL: url(), OPENAI_MODEL: 'local-model', LOG_LEVEL: 'info' });
    expect(code).toBe(0);
    expect(stderr).toContain('responder: llm (local-model');
    expect(stdout).toContain('From the model: how would you like to feel?');
    const replies = stdout.trim().split('\n').filter(Boolean);
    expect(replies.length).toBeGreaterThanOrEqual(3); // disclosure + reply, then the offline line
    expect(stderr).toContain('"reason":"http_error"');
    expect(stderr).not.toContain('Zanzibar');
    expect(fake.chatRequests.at(-1)!.model).toBe('local-model');
  });

  it('RESPONDER=offline keeps the offline responder even with a server configured', async () => {
    const before = fake.chatRequests.length;
    const { code, stderr } = await npmStart('hello\n', { OPENAI_BASE_URL: url(), RESPONDER: 'offline' });
    expect(code).toBe(0);
    expect(stderr).toContain('responder: offline');
    expect(fake.chatRequests.length).toBe(before);
  });
});

describe('terminal chat, interactive', () => {
  it('prints an LLM reply as it is written, once', async () => {
    const { engine } = await llmEngine({ baseURL: url() });
    const reply = 'Welcome here. Take your time. What would you like to feel instead?';
    fake.chatHandler = plainModel(reply, { chunkChars: 5, chunkDelayMs: 3 });
    const input = new PassThrough();
    const output = new PassThrough();
    const chunks: string[] = [];
    output.on('data', (d) => chunks.push(String(d)));
    const done = runTerminalChat({ engine, user: 'streamer', input, output, interactive: true });
    input.end('hi\n');
    await done;
    fake.chatHandler = undefined;
    const out = chunks.join('');
    expect(out.split(reply).length).toBe(2); // the whole reply appears exactly once
    expect(out.match(/guide> /g)).toHaveLength(1);
    // Written in several pieces, the first before the reply was complete.
    const pieces = chunks.filter((c) => reply.includes(c.trim()) && c.trim().length > 0);
    expect(pieces.length).toBeGreaterThanOrEqual(2);
  });
});
