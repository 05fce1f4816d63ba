/**
 * OpenAI's moderation endpoint as a further opinion on risk: the real `openai` client, built
 * as the product builds it (createOpenAiClient, with the responder's retries and timeout),
 * against the local fake server over HTTP.
 */
import { createServer } from 'node:net';
import type OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadSettings } from '../../src/config/settings.js';
import { createOpenAiClient } from '../../src/responder/create-responder.js';
import { OpenAiModeration, moderationEnabled } from '../../src/safety/moderation.js';
import type { RiskOpinionResult } from '../../src/safety/opinion.js';
import { FakeOpenAi, type ModerationScript } from '../fakes/openai-server.js';

const fake = new FakeOpenAi();
let base = '';
beforeAll(async () => {
  base = await fake.start();
});
afterAll(() => fake.stop());
afterEach(() => {
  fake.moderation = [];
  fake.moderationHandler = undefined;
  fake.moderationRequests.length = 0;
});

/** The product's client for `baseURL`: OPENAI_MAX_RETRIES=2 and a 20 s timeout, which moderation must not use. */
const client = (baseURL = base) => createOpenAiClient(loadSettings({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: baseURL }));
const moderation = (opts: { timeoutMs?: number; model?: string; client?: OpenAI } = {}) => new OpenAiModeration({ client: opts.client ?? client(), ...opts });
const TEXT = 'I have been thinking about ending it';

/** The check, timed. */
async function timed(m: OpenAiModeration, script: ModerationScript | undefined, signal?: AbortSignal): Promise<{ result: RiskOpinionResult; ms: number }> {
  if (script) fake.moderation = [script];
  const t0 = performance.now();
  const result = await m.check(TEXT, signal);
  return { result, ms: performance.now() - t0 };
}

const noOpinion = (error: string) => ({ flagged: false, kind: null, categories: [], error });

describe('OpenAiModeration: answers', () => {
  it('flags self-harm/intent as a crisis, with one request carrying the model and the text', async () => {
    const { result } = await timed(moderation(), { flag: ['self-harm', 'self-harm/intent'] });
    expect(result).toEqual({ flagged: true, kind: 'crisis', categories: ['self-harm', 'self-harm/intent'] });
    expect(fake.moderationRequests).toHaveLength(1);
    expect(fake.moderationRequests[0]).toMatchObject({ path: '/v1/moderations', model: 'omni-moderation-latest', input: TEXT, status: 200 });
    expect(fake.moderationRequests[0]!.headers.authorization).toBe('Bearer sk-test');
    // Category names only: the person's words never come back in the result.
    expect(JSON.stringify(result)).not.toContain('ending it');
  });

  it.each([
    [['self-harm/instructions'], 'crisis'],
    [['self-harm'], 'self_harm'],
    [['self-harm', 'violence'], 'self_harm'],
  ] as const)('flags %j as %s', async (flag, kind) => {
    const { result } = await timed(moderation(), { flag: [...flag] });
    expect(result).toEqual({ flagged: true, kind, categories: [...flag] });
  });

  it('does not flag an answer without self-harm categories, but names the categories it had', async () => {
    expect((await timed(moderation(), { flag: [] })).result).toEqual({ flagged: false, kind: null, categories: [] });
    // The endpoint's own `flagged` is true here; only self-harm counts as an opinion on risk.
    expect((await timed(moderation(), { flag: ['violence', 'harassment'] })).result).toEqual({ flagged: false, kind: null, categories: ['harassment', 'violence'] });
  });

  it('sends the configured model and is named after it', async () => {
    const m = moderation({ model: 'text-moderation-stable' });
    await m.check(TEXT);
    expect(fake.moderationRequests[0]!.model).toBe('text-moderation-stable');
    expect(m.name).toBe('openai (text-moderation-stable)');
    expect(moderation().name).toBe('openai (omni-moderation-latest)');
  });

  it('refuses a timeout that is not a positive integer', () => {
    expect(() => moderation({ timeoutMs: 0 })).toThrow(RangeError);
    expect(() => moderation({ timeoutMs: 1.5 })).toThrow(RangeError);
  });
});

describe('OpenAiModeration: failures are no opinion, never a throw, never a retry', () => {
  it('maps a 500 to server_error at once, with no retry although the client has two', async () => {
    const { result, ms } = await timed(moderation(), { status: 500 });
    expect(result).toEqual(noOpinion('server_error'));
    expect(fake.moderationRequests.map((r) => r.status)).toEqual([500]);
    expect(ms).toBeLessThan(1000);
  });

  it('maps a 429 to rate_limited without waiting for Retry-After', async () => {
    const { result, ms } = await timed(moderation(), { status: 429, retryAfter: '5' });
    expect(result).toEqual(noOpinion('rate_limited'));
    expect(fake.moderationRequests).toHaveLength(1);
    expect(ms).toBeLessThan(1000);
  });

  it.each([400, 401, 404] as const)('maps a %i to http_error', async (status) => {
    expect((await timed(moderation(), { status })).result).toEqual(noOpinion('http_error'));
    expect(fake.moderationRequests).toHaveLength(1);
  });

  it('gives up on a hung request within about its timeout, and aborts the HTTP request', async () => {
    const timeoutMs = 200;
    const { result, ms } = await timed(moderation({ timeoutMs }), { hang: true });
    expect(result).toEqual(noOpinion('timeout'));
    expect(ms).toBeGreaterThanOrEqual(timeoutMs - 20);
    expect(ms).toBeLessThan(timeoutMs + 800);
    expect(fake.moderationRequests).toHaveLength(1);
    // The server sees the connection closed before it answered: nothing keeps running.
    await vi.waitFor(() => expect(fake.moderationRequests[0]!.abandoned).toBe(true), { timeout: 2000 });
  });

  it('gives up on a body that stalls after the headers (past the client’s own timeout) within its timeout', async () => {
    const timeoutMs = 200;
    const { result, ms } = await timed(moderation({ timeoutMs }), { stallBody: true });
    expect(result).toEqual(noOpinion('timeout'));
    expect(ms).toBeLessThan(timeoutMs + 800);
    await vi.waitFor(() => expect(fake.moderationRequests[0]!.abandoned).toBe(true), { timeout: 2000 });
  });

  it.each([
    ['a body that is not JSON', { raw: 'not json' }],
    ['an HTML page from a proxy', { raw: '<html><body>Bad gateway</body></html>', contentType: 'text/html' }],
    ['no results', { raw: '{"id":"modr-1","model":"omni-moderation-latest","results":[]}' }],
    ['results without the self-harm categories', { raw: '{"id":"modr-1","model":"m","results":[{"flagged":true,"categories":{"violence":true}}]}' }],
    ['a self-harm category that is not a boolean', { raw: '{"id":"modr-1","model":"m","results":[{"flagged":true,"categories":{"self-harm":"yes","self-harm/intent":false,"self-harm/instructions":false}}]}' }],
  ] as const)('maps %s to malformed', async (_, script) => {
    expect((await timed(moderation(), script)).result).toEqual(noOpinion('malformed'));
  });

  it('maps a refused connection to connection', async () => {
    // A port that was just free: nothing listens there.
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    await new Promise<void>((r) => server.close(() => r()));
    const { result, ms } = await timed(moderation({ client: client(`http://127.0.0.1:${port}/v1`) }), undefined);
    expect(result).toEqual(noOpinion('connection'));
    expect(ms).toBeLessThan(1000);
  });

  it('stops at once when the caller aborts, and aborts the HTTP request', async () => {
    const turn = new AbortController();
    // Aborted the moment the request reaches the server, which never answers.
    fake.moderationHandler = () => (turn.abort(), { hang: true });
    const { result, ms } = await timed(moderation({ timeoutMs: 5000 }), undefined, turn.signal);
    expect(result).toEqual(noOpinion('aborted'));
    expect(ms).toBeLessThan(1000);
    await vi.waitFor(() => expect(fake.moderationRequests[0]!.abandoned).toBe(true), { timeout: 2000 });
  });

  it('sends nothing when the caller has aborted already', async () => {
    const turn = new AbortController();
    turn.abort();
    expect((await timed(moderation(), undefined, turn.signal)).result).toEqual(noOpinion('aborted'));
    expect(fake.moderationRequests).toHaveLength(0);
  });

  it('never throws, whatever the client does', async () => {
    const throwing = { moderations: { create: () => { throw new TypeError('boom'); } } } as unknown as OpenAI;
    const rejecting = { moderations: { create: () => Promise.reject('not even an Error') } } as unknown as OpenAI;
    for (const c of [throwing, rejecting]) {
      const result = await moderation({ client: c }).check(TEXT);
      expect(result).toMatchObject({ flagged: false, kind: null, categories: [] });
      expect(result.error).toBeDefined();
    }
  });
});

describe('MODERATION settings', () => {
  const enabled = (env: Record<string, string>) => moderationEnabled(loadSettings(env));
  const KEY = { OPENAI_API_KEY: 'sk-test' };
  const LOCAL = { OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1' };

  it('defaults: auto, omni-moderation-latest, 1500 ms', () => {
    expect(loadSettings({})).toMatchObject({ MODERATION: 'auto', MODERATION_MODEL: 'omni-moderation-latest', MODERATION_TIMEOUT_MS: 1500 });
    // Blank lines in .env mean the default.
    expect(loadSettings({ MODERATION: '', MODERATION_MODEL: '', MODERATION_TIMEOUT_MS: '' })).toMatchObject({ MODERATION: 'auto', MODERATION_TIMEOUT_MS: 1500 });
  });

  it('auto: on with OPENAI_API_KEY (with or without a base URL), off with a base URL alone or nothing', () => {
    expect(enabled({})).toBe(false);
    expect(enabled(KEY)).toBe(true);
    expect(enabled({ ...KEY, ...LOCAL })).toBe(true);
    expect(enabled(LOCAL)).toBe(false);
    // The responder's choice does not decide it: the opinion is about safety, not replies.
    expect(enabled({ ...KEY, RESPONDER: 'offline' })).toBe(true);
  });

  it('on: on with a key or a base URL (a server that has the endpoint); refused with neither', () => {
    expect(enabled({ MODERATION: 'on', ...KEY })).toBe(true);
    expect(enabled({ MODERATION: 'on', ...LOCAL })).toBe(true);
    expect(() => loadSettings({ MODERATION: 'on' })).toThrow(/MODERATION: "on" needs OPENAI_API_KEY/);
  });

  it('off: off even with a key', () => {
    expect(enabled({ MODERATION: 'off', ...KEY })).toBe(false);
    expect(enabled({ MODERATION: 'off' })).toBe(false);
  });

  it('validates the values', () => {
    expect(() => loadSettings({ MODERATION: 'yes' })).toThrow(/MODERATION/);
    expect(() => loadSettings({ MODERATION_TIMEOUT_MS: '99' })).toThrow(/MODERATION_TIMEOUT_MS/);
    expect(() => loadSettings({ MODERATION_TIMEOUT_MS: '10001' })).toThrow(/MODERATION_TIMEOUT_MS/);
    expect(loadSettings({ MODERATION_TIMEOUT_MS: '100' }).MODERATION_TIMEOUT_MS).toBe(100);
    expect(loadSettings({ MODERATION_TIMEOUT_MS: '10000' }).MODERATION_TIMEOUT_MS).toBe(10_000);
    expect(loadSettings({ MODERATION_MODEL: 'text-moderation-stable' }).MODERATION_MODEL).toBe('text-moderation-stable');
  });
});
