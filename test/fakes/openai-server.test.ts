/** Proves the fake server speaks the Chat Completions and Moderations protocols the real `openai` client expects. */
import OpenAI, { APIConnectionTimeoutError } from 'openai';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pause, until } from '../wait.js';
import { FakeOpenAi, MODERATION_CATEGORIES, type ModerationCategory } from './openai-server.js';

let fake: FakeOpenAi;
let baseURL: string;
const client = (opts: { maxRetries?: number; timeout?: number } = {}) =>
  new OpenAI({ apiKey: 'test', baseURL, maxRetries: opts.maxRetries ?? 0, ...(opts.timeout ? { timeout: opts.timeout } : {}) });
const messages = [{ role: 'user' as const, content: 'hi there' }];
/** After the stall point was reached, how long no more of the stream may arrive. */
const STALL_QUIET_MS = 100;

beforeEach(async () => {
  fake = new FakeOpenAi();
  baseURL = await fake.start();
});
afterEach(async () => fake.stop());

describe('FakeOpenAi chat completions', () => {
  it('answers a non-streamed completion with content and usage, and logs the request', async () => {
    fake.chat = [{ content: 'Hello world', usage: { prompt_tokens: 7, completion_tokens: 3 } }];
    const res = await client().chat.completions.create({
      model: 'gpt-test',
      messages,
      max_completion_tokens: 50,
      response_format: { type: 'json_object' },
    });
    expect(res.object).toBe('chat.completion');
    expect(res.choices[0]!.message.content).toBe('Hello world');
    expect(res.choices[0]!.finish_reason).toBe('stop');
    expect(res.usage).toEqual({ prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 });
    expect(fake.lastChat()).toMatchObject({ model: 'gpt-test', messages, stream: false, maxTokens: 50, status: 200, path: '/v1/chat/completions' });
    expect(fake.lastChat()!.responseFormat).toEqual({ type: 'json_object' });
    expect(fake.lastChat()!.headers.authorization).toBe('Bearer test');
  });

  it('uses defaultChat when the queue is empty and chatHandler when set', async () => {
    const first = await client().chat.completions.create({ model: 'm', messages });
    expect(first.choices[0]!.message.content).toBe('{"criteria_met":[],"action":"x","reply":"Hello."}');
    fake.chatHandler = (req) => ({ content: `echo ${req.messages.length}` });
    const second = await client().chat.completions.create({ model: 'm', messages });
    expect(second.choices[0]!.message.content).toBe('echo 1');
  });

  it('streams the content across several chunks', async () => {
    const content = 'The quick brown fox jumps over the lazy dog.';
    fake.chat = [{ content, chunkChars: 5, finishReason: 'length' }];
    const stream = await client().chat.completions.create({ model: 'm', messages, stream: true });
    const pieces: string[] = [];
    let finish: string | null = null;
    for await (const chunk of stream) {
      expect(chunk.object).toBe('chat.completion.chunk');
      const choice = chunk.choices[0];
      if (choice?.delta.content) pieces.push(choice.delta.content);
      if (choice?.finish_reason) finish = choice.finish_reason;
    }
    expect(pieces.length).toBeGreaterThan(1);
    expect(pieces.join('')).toBe(content);
    expect(finish).toBe('length');
    expect(fake.lastChat()!.stream).toBe(true);
  });

  it('sends a usage chunk when stream_options.include_usage is set', async () => {
    fake.chat = [{ content: 'abc', usage: { prompt_tokens: 4, completion_tokens: 1 } }];
    const stream = await client().chat.completions.create({ model: 'm', messages, stream: true, stream_options: { include_usage: true } });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage).toEqual({ prompt_tokens: 4, completion_tokens: 1, total_tokens: 5 });
  });

  it('lets the client retry a 429 honouring retry-after-ms', async () => {
    fake.chat = [{ status: 429, retryAfterMs: '10' }, { content: 'ok' }];
    const res = await client({ maxRetries: 2 }).chat.completions.create({ model: 'm', messages });
    expect(res.choices[0]!.message.content).toBe('ok');
    expect(fake.chatRequests.map((r) => r.status)).toEqual([429, 200]);
    expect(fake.chatRequests[1]!.headers['x-stainless-retry-count']).toBe('1');
  });

  it('surfaces a 500 as an APIError', async () => {
    fake.chat = [{ status: 500 }];
    const err = await client().chat.completions.create({ model: 'm', messages }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(500);
  });

  it('makes a malformed body fail the non-streamed call', async () => {
    fake.chat = [{ raw: 'not json' }];
    await expect(client().chat.completions.create({ model: 'm', messages })).rejects.toThrow();
  });

  it('times out a hung request', async () => {
    fake.chat = [{ hang: true }];
    await expect(client({ timeout: 300 }).chat.completions.create({ model: 'm', messages })).rejects.toBeInstanceOf(
      APIConnectionTimeoutError,
    );
  });

  it('stalls a stream mid-way and still stops quickly', async () => {
    fake.chat = [{ content: 'abcdefghijklmnop', chunkChars: 4, stallAfterChars: 8 }];
    const stream = await client().chat.completions.create({ model: 'm', messages, stream: true });
    const pieces: string[] = [];
    const reading = (async () => {
      for await (const chunk of stream) if (chunk.choices[0]?.delta.content) pieces.push(chunk.choices[0].delta.content);
    })().catch(() => undefined);
    await until(() => pieces.join('').length >= 8, { timeoutMs: 2000, what: () => `the first 8 characters; got ${pieces.join('')}` });
    await pause(STALL_QUIET_MS); // the fake writes chunks without delay: anything past the stall would have come
    expect(pieces.join('')).toBe('abcdefgh');
    expect(fake.inFlight).toBe(1);
    const t0 = Date.now();
    await fake.stop();
    await reading;
    expect(Date.now() - t0).toBeLessThan(1000);
  });
});

type SameKeys<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

describe('FakeOpenAi moderations', () => {
  it('answers in the real shape, every category the SDK knows included, and logs the request', async () => {
    fake.moderation = [{ flag: ['self-harm', 'self-harm/intent'] }];
    const res = await client().moderations.create({ model: 'omni-moderation-latest', input: 'some text' });
    expect(res.id).toMatch(/^modr-/);
    expect(res.model).toBe('omni-moderation-latest');
    expect(res.results).toHaveLength(1);
    const r = res.results[0]!;
    expect(r.flagged).toBe(true);
    expect(r.categories['self-harm/intent']).toBe(true);
    expect(r.categories['self-harm/instructions']).toBe(false);
    expect(r.category_scores['self-harm/intent']).toBeGreaterThan(0.5);
    expect(r.category_applied_input_types['self-harm']).toEqual(['text']);
    // The fake's categories are the SDK's, no more, no fewer (checked by tsc), each in all three maps.
    const sameAsSdk: SameKeys<keyof OpenAI.Moderation.Categories, ModerationCategory> = true;
    expect(sameAsSdk).toBe(true);
    for (const part of [r.categories, r.category_scores, r.category_applied_input_types]) expect(Object.keys(part)).toEqual([...MODERATION_CATEGORIES]);
    expect(fake.moderationRequests).toHaveLength(1);
    expect(fake.moderationRequests[0]).toMatchObject({ path: '/v1/moderations', model: 'omni-moderation-latest', input: 'some text', status: 200, abandoned: false });
  });

  it('is not flagged by default, answers one result per input, and leaves input types out for text-moderation models', async () => {
    const res = await client().moderations.create({ model: 'text-moderation-stable', input: ['a', 'b'] });
    expect(res.results.map((r) => r.flagged)).toEqual([false, false]);
    expect(Object.values(res.results[0]!.categories).every((v) => v === false)).toBe(true);
    expect('category_applied_input_types' in res.results[0]!).toBe(false);
  });

  it('serves scripted faults: a status, a malformed body, a hang', async () => {
    fake.moderation = [{ status: 500 }, { raw: 'not json' }, { hang: true }];
    const err = await client().moderations.create({ input: 'x' }).catch((e: unknown) => e);
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(500);
    await expect(client().moderations.create({ input: 'x' })).rejects.toBeInstanceOf(SyntaxError);
    await expect(client({ timeout: 200 }).moderations.create({ input: 'x' })).rejects.toBeInstanceOf(APIConnectionTimeoutError);
    await fake.moderationRequests[2]!.closed;
    expect(fake.moderationRequests.map((r) => [r.status, r.abandoned])).toEqual([[500, false], [200, false], [0, true]]);
  });

  it('lets a handler decide every answer', async () => {
    fake.moderationHandler = (req) => ({ flag: req.input === 'bad' ? ['self-harm'] : [] });
    expect((await client().moderations.create({ input: 'bad' })).results[0]!.flagged).toBe(true);
    expect((await client().moderations.create({ input: 'fine' })).results[0]!.flagged).toBe(false);
  });
});
