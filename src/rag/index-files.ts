/**
 * The retrieval artifacts under `<dataDir>/embeddings/` and how they are
 * written: each file to a temporary name, then renamed, so a crash never
 * leaves a half-written index where the engine would load it.
 *
 *   trt_rag_index.faiss     the FAISS index over every example (positions 0..n-1)
 *   trt_rag_vectors.f32     the same vectors, raw float32, in position order
 *                           (per-category indexes are built from them at load,
 *                           and unchanged examples reuse them on rebuild)
 *   trt_rag_metadata.json   embedder, model, dimension, index type, checksums,
 *                           build time, counts per category, and per position
 *                           the example id and the content hash of its text
 */
import { createHash } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { Exchange } from '../config/schemas.js';

export const INDEX_FILES = {
  index: join('embeddings', 'trt_rag_index.faiss'),
  vectors: join('embeddings', 'trt_rag_vectors.f32'),
  metadata: join('embeddings', 'trt_rag_metadata.json'),
} as const;

export const IndexMetadataSchema = z.object({
  format: z.literal(1),
  embedder: z.object({ provider: z.string(), model: z.string(), dimension: z.number().int().positive() }),
  index: z.object({ factory: z.string(), metric: z.literal('inner_product'), sha256: z.string() }),
  corpus: z.object({ file: z.string(), sha256: z.string(), count: z.number().int().min(0) }),
  built_at: z.string(),
  counts_per_category: z.record(z.string(), z.number().int()),
  /** Per position: the example id. */
  ids: z.array(z.string()),
  /** Per position: sha256 of provider, model, dimension and the embedded text (the reuse key). */
  content_hashes: z.array(z.string()),
});
export type IndexMetadata = z.infer<typeof IndexMetadataSchema>;

export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Checksum of the corpus as retrieval sees it (every field of every record, in order). */
export function corpusChecksum(exchanges: readonly Exchange[]): string {
  return sha256(JSON.stringify(exchanges));
}

/** The text embedded for an example: the person's words, which queries are compared with. */
export function embeddedText(e: Exchange): string {
  return e.client_input;
}

export function contentHash(provider: string, model: string, dimension: number, text: string): string {
  return sha256(`${provider}\u0000${model}\u0000${dimension}\u0000${text}`);
}

/** Writes a file atomically: a temporary sibling, then rename. */
export function writeAtomic(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

export function vectorsToBuffer(vectors: readonly Float32Array[], dimension: number): Buffer {
  const out = Buffer.alloc(vectors.length * dimension * 4);
  vectors.forEach((v, i) => Buffer.from(v.buffer, v.byteOffset, v.byteLength).copy(out, i * dimension * 4));
  return out;
}

export function vectorsFromFile(path: string, dimension: number, count: number): Float32Array[] {
  const buf = readFileSync(path);
  if (buf.length !== dimension * count * 4) {
    throw new Error(`${path} holds ${buf.length} bytes; ${count} vectors of ${dimension} dimensions need ${dimension * count * 4}`);
  }
  const all = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length));
  return Array.from({ length: count }, (_, i) => all.subarray(i * dimension, (i + 1) * dimension));
}
