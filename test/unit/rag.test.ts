import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import {
  FaissIndex,
  FaissRetriever,
  INDEX_FILES,
  IndexMismatchError,
  LocalEmbedder,
  buildIndex,
  loadExchanges,
  silentLogger,
  type Embedder,
  type Exchange,
  type Logger,
} from '../../src/index.js';
import { DATA_DIR, exchanges, repoConfig, repoRetriever, ROOT } from '../helpers.js';

const run = promisify(execFile);
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');
const retrieval = repoConfig().retrieval;
const dims = retrieval.local.dimension;
const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) rmSync(dirs.pop()!, { recursive: true, force: true });
});
function scratchData(): string {
  const dir = mkdtempSync(join(tmpdir(), 'trt-rag-'));
  dirs.push(dir);
  cpSync(join(DATA_DIR, 'state_actions'), join(dir, 'state_actions'), { recursive: true });
  return dir;
}
const cosine = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i]!, 0);

/** Wraps an embedder and counts the texts it was asked to embed. */
class CountingEmbedder implements Embedder {
  embedded: string[] = [];
  constructor(private readonly inner: Embedder, private readonly failAfter = Infinity) {}
  get provider() { return this.inner.provider; }
  get model() { return this.inner.model; }
  get dimension() { return this.inner.dimension; }
  async embed(texts: readonly string[]) {
    if (this.embedded.length + texts.length > this.failAfter) throw Object.assign(new Error('embedding service down'), { status: 503 });
    this.embedded.push(...texts);
    return this.inner.embed(texts);
  }
}

describe('local embedder', () => {
  const e = new LocalEmbedder(dims);
  it('is deterministic and unit length', () => {
    const a = e.embedOne('My chest feels tight');
    expect([...a]).toEqual([...new LocalEmbedder(dims).embedOne('My chest feels tight')]);
    expect(Math.hypot(...a)).toBeCloseTo(1, 5);
    expect(a.length).toBe(dims);
  });
  it('puts paraphrases closer than unrelated text', () => {
    const a = e.embedOne('my chest feels tight');
    expect(cosine(a, e.embedOne('there is a tightness in my chest'))).toBeGreaterThan(cosine(a, e.embedOne('what is the weather like today')) + 0.2);
  });
  it('embeds punctuation-only messages to something (silence)', () => {
    expect(cosine(e.embedOne('...'), e.embedOne('…'))).toBeGreaterThan(0.5);
  });
});

describe('FAISS index', () => {
  const e = new LocalEmbedder(64);
  const texts = ['calm', 'tight chest', 'heavy shoulders', 'racing thoughts', 'I want to feel rested'];
  const vectors = texts.map((t) => e.embedOne(t));
  it('returns positions and cosine scores matching brute force, through a serialisation round trip', () => {
    const index = FaissIndex.create(64, 'Flat');
    index.add(vectors);
    const copy = FaissIndex.fromBuffer(index.toBuffer(), 'Flat');
    const q = e.embedOne('my chest is tight');
    const expected = vectors.map((v, i) => ({ position: i, score: cosine(v, q) })).sort((a, b) => b.score - a.score).slice(0, 3);
    const got = copy.search(q, 3);
    expect(got.map((h) => h.position)).toEqual(expected.map((h) => h.position));
    got.forEach((h, i) => expect(h.score).toBeCloseTo(expected[i]!.score, 4));
  });
  it('takes search parameters for HNSW and rejects unknown ones', () => {
    const hnsw = FaissIndex.create(64, 'HNSW16,Flat', { efSearch: 64 });
    hnsw.add(vectors);
    expect(hnsw.search(vectors[2]!, 1)[0]!.position).toBe(2);
    expect(() => FaissIndex.create(64, 'Flat', { nprobe: 4 })).toThrow();
  });
  it('refuses vectors of the wrong dimension', () => {
    const index = FaissIndex.create(64, 'Flat');
    expect(() => index.add([new Float32Array(32)])).toThrow(/32 dimensions/);
  });
});

describe('embeddings build', () => {
  it('writes index, vectors and metadata with embedder, model, dimension, index type, checksums, time and counts', async () => {
    const dir = scratchData();
    const { metadata } = await buildIndex({ dataDir: dir, exchanges, embedder: new LocalEmbedder(dims), retrieval, now: () => new Date('2026-01-02T03:04:05Z') });
    for (const f of Object.values(INDEX_FILES)) expect(existsSync(join(dir, f))).toBe(true);
    expect(metadata).toMatchObject({
      embedder: { provider: 'local', model: 'hashed-ngrams-v2', dimension: dims },
      index: { factory: 'Flat', metric: 'inner_product' },
      corpus: { count: exchanges.length },
      built_at: '2026-01-02T03:04:05.000Z',
    });
    expect(Object.values(metadata.counts_per_category).reduce((a, b) => a + b, 0)).toBe(exchanges.length);
    expect(metadata.ids).toEqual(exchanges.map((x) => x.id));
  });

  it('is incremental: editing one example costs one embedding, and the id mapping stays right', async () => {
    const dir = scratchData();
    const first = new CountingEmbedder(new LocalEmbedder(dims));
    await buildIndex({ dataDir: dir, exchanges, embedder: first, retrieval });
    const edited: Exchange[] = structuredClone(exchanges).reverse(); // reordered, too
    const target = edited.find((x) => x.category === 'sensation_quality')!;
    target.client_input = 'an electric prickling in my kneecaps';
    const second = new CountingEmbedder(new LocalEmbedder(dims));
    await buildIndex({ dataDir: dir, exchanges: edited, embedder: second, retrieval });
    expect(second.embedded).toEqual(['an electric prickling in my kneecaps']);
    const r = FaissRetriever.load({ dataDir: dir, exchanges: edited, embedder: new LocalEmbedder(dims), retrieval, logger: silentLogger });
    const [best] = await r.retrieve({ text: 'electric prickling kneecaps', k: 1 });
    expect(best!.exchange.id).toBe(target.id);
  });

  it('a build that fails midway leaves the previous index untouched', async () => {
    const dir = scratchData();
    await buildIndex({ dataDir: dir, exchanges, embedder: new LocalEmbedder(dims), retrieval });
    const before = Object.values(INDEX_FILES).map((f) => readFileSync(join(dir, f)));
    const changed = exchanges.map((x, i) => ({ ...x, client_input: `${x.client_input} (v2 ${i})` }));
    const failing = new CountingEmbedder(new LocalEmbedder(dims), 100);
    await expect(buildIndex({ dataDir: dir, exchanges: changed, embedder: failing, retrieval, chunkSize: 50 })).rejects.toThrow('embedding service down');
    Object.values(INDEX_FILES).forEach((f, i) => expect(readFileSync(join(dir, f)).equals(before[i]!)).toBe(true));
  });

  it('the shipped index is current: a fresh build from the corpus reproduces it byte for byte', async () => {
    const dir = scratchData();
    const { metadata } = await buildIndex({ dataDir: dir, exchanges: loadExchanges(DATA_DIR), embedder: new LocalEmbedder(dims), retrieval });
    const shipped = JSON.parse(readFileSync(join(DATA_DIR, INDEX_FILES.metadata), 'utf8'));
    expect({ ...shipped, built_at: '' }, 'run `npm run embeddings:build` and commit data/embeddings/').toEqual({ ...metadata, built_at: '' });
    expect(readFileSync(join(dir, INDEX_FILES.index)).equals(readFileSync(join(DATA_DIR, INDEX_FILES.index)))).toBe(true);
    expect(readFileSync(join(dir, INDEX_FILES.vectors)).equals(readFileSync(join(DATA_DIR, INDEX_FILES.vectors)))).toBe(true);
  });
});

describe('FAISS retriever', () => {
  it('scopes results to the category the action names', async () => {
    const hits = await repoRetriever().retrieve({ text: 'I am in tears', category: 'crying_support', k: 3 });
    expect(hits.length).toBeGreaterThan(0);
    expect(hits.every((h) => h.exchange.category === 'crying_support')).toBe(true);
  });

  it('falls back to the whole corpus when the category has fewer than k examples', async () => {
    const hits = await repoRetriever().retrieve({ text: 'tears streaming down', category: 'crying_support', k: 40 });
    expect(new Set(hits.map((h) => h.exchange.category)).size).toBeGreaterThan(1);
  });

  it('drops examples below the minimum similarity', async () => {
    const strict = FaissRetriever.load({ dataDir: DATA_DIR, exchanges, embedder: new LocalEmbedder(dims), retrieval: { ...retrieval, min_similarity: 0.99 }, logger: silentLogger });
    expect(await strict.retrieve({ text: 'zebra quantum spreadsheet', k: 3 })).toEqual([]);
  });

  it('held-out paraphrases: recall@5 of the expected category is at least 0.8', async () => {
    const heldout = JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'rag_heldout.json'), 'utf8')) as { items: Array<{ text: string; category: string }> };
    let hits = 0;
    for (const item of heldout.items) {
      const top = await repoRetriever().retrieve({ text: item.text, k: 5 });
      if (top.some((r) => r.exchange.category === item.category)) hits++;
    }
    expect(hits / heldout.items.length).toBeGreaterThanOrEqual(0.8);
  });

  it('refuses an index built with another embedder, naming the exact rebuild command', () => {
    const load = (embedder: Embedder) => FaissRetriever.load({ dataDir: DATA_DIR, exchanges, embedder, retrieval, logger: silentLogger });
    expect(() => load(new LocalEmbedder(256))).toThrow(IndexMismatchError);
    expect(() => load(new LocalEmbedder(256))).toThrow(/384 dimensions.*256 dimensions.*npm run embeddings:build$/);
    const openaiLike: Embedder = { provider: 'openai', model: 'text-embedding-3-small', dimension: 1536, embed: async () => [] };
    expect(() => load(openaiLike)).toThrow(/npm run embeddings:build -- --provider openai/);
  });

  it('refuses a missing or damaged index, and warns when the corpus changed since the build', () => {
    const dir = scratchData();
    const load = (ex: readonly Exchange[], logger: Logger = silentLogger) => FaissRetriever.load({ dataDir: dir, exchanges: ex, embedder: new LocalEmbedder(dims), retrieval, logger });
    expect(() => load(exchanges)).toThrow(/missing.*npm run embeddings:build/);
    cpSync(join(DATA_DIR, 'embeddings'), join(dir, 'embeddings'), { recursive: true });
    const warnings: string[] = [];
    const logger: Logger = { ...silentLogger, warn: (_o, msg) => void warnings.push(msg ?? '') };
    load([...exchanges.slice(1)], logger);
    expect(warnings.join('\n')).toMatch(/corpus changed since the index was built; run `npm run embeddings:build`/);
    writeFileSync(join(dir, INDEX_FILES.index), readFileSync(join(dir, INDEX_FILES.index)).subarray(0, 1000));
    expect(() => load(exchanges)).toThrow(/does not match its metadata/);
  });
});

describe('npm run embeddings:build', () => {
  it('--dry-run validates and writes nothing; --help documents the options', async () => {
    const dir = scratchData();
    const { stderr } = await run(TSX, ['scripts/embeddings-build.ts', '--dry-run', '--data-dir', dir], { cwd: ROOT });
    expect(stderr).toMatch(/362 examples; embedder local \(hashed-ngrams-v2, 384 dimensions\); index Flat; 361 distinct texts: 361 to embed, 0 reused/);
    expect(stderr).toContain('dry run: nothing written');
    expect(existsSync(join(dir, 'embeddings'))).toBe(false);
    const { stdout } = await run(TSX, ['scripts/embeddings-build.ts', '--help'], { cwd: ROOT });
    for (const flag of ['--provider', '--dry-run', 'Exit codes']) expect(stdout).toContain(flag);
  });

  it('an invalid record stops the build with its index and field', async () => {
    const dir = scratchData();
    const file = join(dir, 'state_actions', 'all_dr_q_exchanges.json');
    const records = JSON.parse(readFileSync(file, 'utf8'));
    records[41].client_input = 7;
    writeFileSync(file, JSON.stringify(records));
    const err = await run(TSX, ['scripts/embeddings-build.ts', '--data-dir', dir], { cwd: ROOT }).then(() => expect.unreachable(), (e: { code: number; stderr: string }) => e);
    expect(err.code).toBe(1);
    expect(err.stderr).toMatch(/\$\[41\]\.client_input/);
  });
});

describe('faiss binding install step', () => {
  it('is fast when already built, and names the missing system package otherwise', async () => {
    const { stderr } = await run('node', ['scripts/build-faiss.mjs'], { cwd: ROOT });
    expect(stderr).toContain('already built');
    const err = await run('node', ['scripts/build-faiss.mjs', '--force'], { cwd: ROOT, env: { ...process.env, FAISS_PREFIX: '/nonexistent', FAISS_AUTO_APT: '0' } }).then(
      () => expect.unreachable(),
      (e: { code: number; stderr: string }) => e,
    );
    expect(err.code).toBe(1);
    expect(err.stderr).toContain('apt-get install -y libfaiss-dev');
  });
});
