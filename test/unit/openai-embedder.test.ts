/** The openai embedder with the real `openai` client against a local OpenAI-compatible server. */
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DATA_DIR, ROOT } from '../helpers.js';
import { OpenAiEmbedder } from '../../src/index.js';
import { batchTexts, estimateTokens } from '../../src/rag/openai-embedder.js';
import { FakeOpenAi } from '../fakes/openai-server.js';

const base = {
  model: 'text-embedding-3-small',
  dimensions: 64,
  max_inputs_per_request: 2048,
  max_tokens_per_request: 250_000,
  concurrency: 4,
  timeout_seconds: 5,
  max_retries: 3,
};

let fake: FakeOpenAi;
let baseURL: string;
beforeEach(async () => {
  fake = new FakeOpenAi(64);
  baseURL = await fake.start();
});
afterEach(async () => fake.stop());

const make = (over: Partial<typeof base> = {}) => new OpenAiEmbedder({ config: { ...base, ...over }, apiKey: 'test-key', baseURL });
const texts = (n: number) => Array.from({ length: n }, (_, i) => `example text number ${i}`);

describe('openai embedder', () => {
  it('returns one unit vector per text, in order, with the configured dimensions', async () => {
    const out = await make().embed(['alpha', 'beta', 'alpha']);
    expect(out).toHaveLength(3);
    expect(out[0]!.length).toBe(64);
    expect(Math.hypot(...out[1]!)).toBeCloseTo(1, 5);
    expect([...out[0]!]).toEqual([...out[2]!]);
    expect(fake.requests[0]).toMatchObject({ model: 'text-embedding-3-small', dimensions: 64 });
  });

  it('never sends more inputs per request than allowed', async () => {
    await make({ max_inputs_per_request: 10 }).embed(texts(25));
    expect(fake.requests.map((r) => r.inputs.length)).toEqual([10, 10, 5]);
  });

  it('splits by the token budget too', async () => {
    const long = Array.from({ length: 6 }, (_, i) => `${i} ${'word '.repeat(200)}`); // ~340 estimated tokens each
    await make({ max_tokens_per_request: 1000 }).embed(long);
    for (const r of fake.requests) expect(r.inputs.reduce((n, t) => n + estimateTokens(t), 0)).toBeLessThanOrEqual(1000);
    expect(fake.requests.length).toBe(3);
  });

  it('keeps at most `concurrency` requests in flight', async () => {
    fake.delayMs = 60;
    await make({ max_inputs_per_request: 1, concurrency: 2 }).embed(texts(8));
    expect(fake.requests).toHaveLength(8);
    expect(fake.maxInFlight).toBe(2);
  });

  it('retries a 429 after the Retry-After the server asked for', async () => {
    fake.faults = [{ status: 429, retryAfter: '1' }];
    const started = Date.now();
    const out = await make().embed(['hello']);
    expect(out).toHaveLength(1);
    expect(fake.requests.map((r) => r.status)).toEqual([429, 200]);
    expect(fake.requests[1]!.at - fake.requests[0]!.at).toBeGreaterThanOrEqual(900);
    expect(Date.now() - started).toBeLessThan(4000);
  });

  it('retries 5xx with backoff, and reports the status when retries run out', async () => {
    fake.faults = [{ status: 503 }, { status: 500 }];
    expect(await make({ max_retries: 3 }).embed(['x'])).toHaveLength(1);
    fake.faults = [{ status: 502 }, { status: 502 }, { status: 502 }];
    await expect(make({ max_retries: 1 }).embed(['y'])).rejects.toMatchObject({ status: 502 });
  });

  it('times out in seconds, not the client default', async () => {
    fake.faults = [{ hang: true }];
    const started = Date.now();
    await expect(make({ timeout_seconds: 1, max_retries: 0 }).embed(['z'])).rejects.toThrow(/timed out/i);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('refuses vectors of the wrong size', async () => {
    const e = new OpenAiEmbedder({ config: { ...base, dimensions: undefined }, apiKey: 'k', baseURL }); // model native: 1536
    await expect(e.embed(['a'])).rejects.toThrow(/64 dimensions; 1536 configured/);
  });
});

describe('batchTexts', () => {
  it('gives an over-budget text a batch of its own rather than dropping it', () => {
    expect(batchTexts(['a', 'x'.repeat(3000), 'b'], 10, 100).map((b) => b.length)).toEqual([1, 1, 1]);
  });
});

describe('npm run embeddings:build --provider openai', () => {
  it('re-running after editing one example sends exactly one text to the API', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'trt-openai-build-'));
    try {
      cpSync(join(DATA_DIR, 'state_actions'), join(dir, 'state_actions'), { recursive: true });
      const env = { ...process.env, OPENAI_BASE_URL: baseURL, OPENAI_API_KEY: 'test-key' };
      const build = () => promisify(execFile)(join(ROOT, 'node_modules', '.bin', 'tsx'), ['scripts/embeddings-build.ts', '--provider', 'openai', '--data-dir', dir, '--no-progress'], { cwd: ROOT, env });
      await build();
      const firstRun = fake.requests.flatMap((r) => r.inputs).length;
      expect(firstRun).toBeGreaterThan(300);
      const meta = JSON.parse(readFileSync(join(dir, 'embeddings', 'trt_rag_metadata.json'), 'utf8'));
      expect(meta.embedder).toEqual({ provider: 'openai', model: 'text-embedding-3-small', dimension: 1536 });

      const file = join(dir, 'state_actions', 'all_dr_q_exchanges.json');
      const records = JSON.parse(readFileSync(file, 'utf8'));
      records[10].client_input = 'a brand new way of saying it';
      writeFileSync(file, JSON.stringify(records));
      fake.requests.length = 0;
      await build();
      expect(fake.requests.flatMap((r) => r.inputs)).toEqual(['a brand new way of saying it']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
