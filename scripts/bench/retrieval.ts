/** Retrieval benchmarks: latency and recall of FAISS indexes on synthetic vectors, and build rate. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Exchange, LocalEmbedder, Retriever } from '../../src/index.js';
import { FaissIndex } from '../../src/rag/faiss-index.js';
import { throughput } from './measure.js';
import { percentile, syntheticVectors } from './synthetic.js';

export interface IndexFigures {
  vectors: number;
  dimension: number;
  factory: string;
  params: Record<string, number>;
  buildSeconds: number;
  addRate: number;
  p50ms: number;
  p99ms: number;
  /** Recall@10 against exact (Flat) search; 1 for Flat itself. */
  recallAt10: number;
}

/**
 * Builds `factory` over n synthetic vectors and measures single-query searches (k=10): 2,000
 * queries below 100k vectors (a stable p99), 300 at 100k (exact ground truth costs 0.2 s a query there).
 */
export function measureIndex(n: number, dimension: number, factory: string, params: Record<string, number> = {}): IndexFigures {
  const data = syntheticVectors(n, dimension, 1);
  const queries = syntheticVectors(n >= 100_000 ? 300 : 2000, dimension, 2);
  const started = performance.now();
  const index = FaissIndex.create(dimension, factory, params);
  for (let i = 0; i < n; i += 10_000) index.add(data.slice(i, i + 10_000));
  const buildSeconds = (performance.now() - started) / 1000;
  for (const q of queries.slice(0, 20)) index.search(q, 10); // warm-up
  const latencies: number[] = [];
  const results: number[][] = [];
  for (const q of queries) {
    const t = performance.now();
    results.push(index.search(q, 10).map((h) => h.position));
    latencies.push(performance.now() - t);
  }
  let recall = 1;
  if (factory !== 'Flat') {
    const exact = FaissIndex.create(dimension, 'Flat');
    for (let i = 0; i < n; i += 10_000) exact.add(data.slice(i, i + 10_000));
    let hits = 0;
    queries.forEach((q, i) => {
      const truth = new Set(exact.search(q, 10).map((h) => h.position));
      hits += results[i]!.filter((p) => truth.has(p)).length;
    });
    recall = hits / (queries.length * 10);
  }
  return {
    vectors: n,
    dimension,
    factory,
    params,
    buildSeconds: +buildSeconds.toFixed(2),
    addRate: Math.round(n / buildSeconds),
    p50ms: +percentile(latencies, 0.5).toFixed(3),
    p99ms: +percentile(latencies, 0.99).toFixed(3),
    recallAt10: +recall.toFixed(3),
  };
}

/** Retrieval on the real corpus: held-out recall@5, embedding rate, per-query latency (embed + scoped search). */
export async function benchCorpusRetrieval(
  root: string,
  exchanges: readonly Exchange[],
  retriever: Retriever,
  embedder: LocalEmbedder,
  k: number,
  seconds: number,
) {
  const heldout = JSON.parse(readFileSync(join(root, 'test', 'fixtures', 'rag_heldout.json'), 'utf8')) as { items: Array<{ text: string; category: string }> };
  let hits = 0;
  for (const item of heldout.items) {
    const top = await retriever.retrieve({ text: item.text, k: 5 });
    if (top.some((r) => r.exchange.category === item.category)) hits++;
  }
  const texts = exchanges.map((e) => e.client_input);
  const embedTextsPerSec = Math.round(throughput((i) => embedder.embedOne(texts[i % texts.length]!), seconds));
  const latencies: number[] = [];
  for (let i = 0; i < 5000; i++) {
    const e = exchanges[i % exchanges.length]!;
    const t = performance.now();
    await retriever.retrieve({ text: e.client_input, category: e.category, k });
    latencies.push(performance.now() - t);
  }
  return {
    recallAt5: +(hits / heldout.items.length).toFixed(3),
    embedTextsPerSec,
    p50ms: +percentile(latencies, 0.5).toFixed(3),
    p99ms: +percentile(latencies, 0.99).toFixed(3),
  };
}
