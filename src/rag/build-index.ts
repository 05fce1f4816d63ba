/**
 * Builds the retrieval artifacts from the example corpus. Vectors of examples
 * whose embedded text is unchanged are reused from the previous build (keyed
 * by content hash), so editing one example costs one embedding.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Exchange, RetrievalConfig } from '../config/schemas.js';
import { EXCHANGES_FILE } from '../config/load.js';
import type { Embedder } from './embedder.js';
import { FaissIndex } from './faiss-index.js';
import {
  INDEX_FILES,
  IndexMetadataSchema,
  contentHash,
  corpusChecksum,
  embeddedText,
  sha256,
  vectorsFromFile,
  vectorsToBuffer,
  writeAtomic,
  type IndexMetadata,
} from './index-files.js';

export interface BuildPlan {
  /** Examples in the corpus. */
  total: number;
  /** Distinct embedded texts: examples with the same text share one embedding. */
  distinct: number;
  /** Distinct texts that need an embedding call. */
  toEmbed: string[];
  /** Distinct texts whose vector comes from the previous build. */
  reused: number;
}

export interface BuildResult {
  metadata: IndexMetadata;
  plan: BuildPlan;
  /**
   * False when the files on disk already held exactly this build (same vectors, ids,
   * embedder, index type, corpus): nothing was written, so `built_at` and the bytes stay.
   */
  written: boolean;
}

/** Vectors of the previous build that match this embedder, by content hash. */
export function previousVectors(dataDir: string, embedder: Embedder): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  const metaPath = join(dataDir, INDEX_FILES.metadata);
  const vecPath = join(dataDir, INDEX_FILES.vectors);
  if (!existsSync(metaPath) || !existsSync(vecPath)) return out;
  try {
    const meta = IndexMetadataSchema.parse(JSON.parse(readFileSync(metaPath, 'utf8')));
    const { provider, model, dimension } = meta.embedder;
    if (provider !== embedder.provider || model !== embedder.model || dimension !== embedder.dimension) return out;
    const vectors = vectorsFromFile(vecPath, dimension, meta.content_hashes.length);
    meta.content_hashes.forEach((h, i) => out.set(h, vectors[i]!));
  } catch {
    // An unreadable previous build is simply not reused.
  }
  return out;
}

export function planBuild(exchanges: readonly Exchange[], embedder: Embedder, previous: Map<string, Float32Array>): BuildPlan {
  const toEmbed = new Set<string>();
  const reused = new Set<string>();
  for (const e of exchanges) {
    const text = embeddedText(e);
    if (previous.has(contentHash(embedder.provider, embedder.model, embedder.dimension, text))) reused.add(text);
    else toEmbed.add(text);
  }
  return { total: exchanges.length, distinct: toEmbed.size + reused.size, toEmbed: [...toEmbed], reused: reused.size };
}

export interface BuildOptions {
  dataDir: string;
  exchanges: readonly Exchange[];
  embedder: Embedder;
  retrieval: RetrievalConfig;
  /** Called after each chunk of new embeddings with the number done so far. */
  onProgress?: (done: number, total: number) => void;
  now?: () => Date;
  /** Texts embedded per call (progress granularity). Default 256. */
  chunkSize?: number;
}

/** Embeds what changed, builds the FAISS index and writes the three files atomically. */
export async function buildIndex(opts: BuildOptions): Promise<BuildResult> {
  const { dataDir, exchanges, embedder, retrieval } = opts;
  const previous = previousVectors(dataDir, embedder);
  const plan = planBuild(exchanges, embedder, previous);
  const fresh = new Map<string, Float32Array>();
  const chunk = opts.chunkSize ?? 256;
  for (let i = 0; i < plan.toEmbed.length; i += chunk) {
    const texts = plan.toEmbed.slice(i, i + chunk);
    const vectors = await embedder.embed(texts);
    texts.forEach((t, j) => fresh.set(t, vectors[j]!));
    opts.onProgress?.(Math.min(i + chunk, plan.toEmbed.length), plan.toEmbed.length);
  }

  const hashes: string[] = [];
  const vectors = exchanges.map((e) => {
    const text = embeddedText(e);
    const hash = contentHash(embedder.provider, embedder.model, embedder.dimension, text);
    hashes.push(hash);
    return previous.get(hash) ?? fresh.get(text)!;
  });
  const index = FaissIndex.create(embedder.dimension, retrieval.index.factory, retrieval.index.params);
  index.add(vectors);
  const indexBuffer = index.toBuffer();

  const counts: Record<string, number> = {};
  for (const e of exchanges) counts[e.category] = (counts[e.category] ?? 0) + 1;
  const metadata: IndexMetadata = {
    format: 1,
    embedder: { provider: embedder.provider, model: embedder.model, dimension: embedder.dimension },
    index: { factory: retrieval.index.factory, metric: 'inner_product', sha256: sha256(indexBuffer) },
    corpus: { file: EXCHANGES_FILE, sha256: corpusChecksum(exchanges), count: exchanges.length },
    built_at: (opts.now?.() ?? new Date()).toISOString(),
    counts_per_category: Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b))),
    ids: exchanges.map((e) => e.id),
    content_hashes: hashes,
  };

  const vectorsBuffer = vectorsToBuffer(vectors, embedder.dimension);
  const current = unchangedBuild(dataDir, metadata, vectorsBuffer);
  if (current) return { metadata: current, plan, written: false };

  mkdirSync(dirname(join(dataDir, INDEX_FILES.index)), { recursive: true });
  // Index and vectors first, metadata last: the metadata names the index's checksum,
  // so a crash between renames is caught at load as a mismatch, never used silently.
  writeAtomic(join(dataDir, INDEX_FILES.index), indexBuffer);
  writeAtomic(join(dataDir, INDEX_FILES.vectors), vectorsBuffer);
  writeAtomic(join(dataDir, INDEX_FILES.metadata), `${JSON.stringify(metadata, null, 2)}\n`);
  return { metadata, plan, written: true };
}

/**
 * The metadata on disk when the files there already are this build, else undefined.
 * A rebuild with nothing changed must leave the files byte-identical (no new built_at, no
 * git diff on the shipped index). The index is compared through the vectors it was built
 * from and its own checksum, not its bytes: an HNSW build need not serialise identically
 * twice, and the same vectors in the same factory search the same.
 */
function unchangedBuild(dataDir: string, next: IndexMetadata, vectorsBuffer: Buffer): IndexMetadata | undefined {
  try {
    const onDisk = IndexMetadataSchema.parse(JSON.parse(readFileSync(join(dataDir, INDEX_FILES.metadata), 'utf8')));
    const comparable = (m: IndexMetadata) => JSON.stringify({ ...m, built_at: '', index: { ...m.index, sha256: '' } });
    if (comparable(onDisk) !== comparable(next)) return undefined;
    if (!readFileSync(join(dataDir, INDEX_FILES.vectors)).equals(vectorsBuffer)) return undefined;
    if (sha256(readFileSync(join(dataDir, INDEX_FILES.index))) !== onDisk.index.sha256) return undefined;
    return onDisk;
  } catch {
    return undefined; // missing or unreadable files: write a fresh build
  }
}
