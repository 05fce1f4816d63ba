/**
 * FAISS behind the VectorIndex interface, through faiss-node. The index type
 * comes from a factory string ("Flat", "HNSW32,Flat", ...), with inner-product
 * metric over unit vectors, i.e. cosine similarity.
 *
 * faiss-node quirks handled here: it only accepts plain JS arrays (not typed
 * arrays), and `removeIds` renumbers the remaining vectors, so this wrapper
 * never removes: a rebuild writes a fresh index and positions stay dense.
 */
import { createRequire } from 'node:module';
import type { SearchHit, VectorIndex } from './vector-index.js';

interface NativeIndex {
  ntotal(): number;
  getDimension(): number;
  isTrained(): boolean;
  train(x: number[]): void;
  add(x: number[]): void;
  search(x: number[], k: number): { distances: number[]; labels: number[] };
  toBuffer(): Buffer;
  /** Added by scripts/build-faiss.mjs (faiss ParameterSpace): efSearch, nprobe, ... */
  setParameter(name: string, value: number): void;
}
interface FaissModule {
  Index: { fromFactory(d: number, description: string, metric?: number): NativeIndex; fromBuffer(b: Buffer): NativeIndex };
  MetricType: { METRIC_INNER_PRODUCT: number };
}

let faiss: FaissModule | undefined;
/** Loads the native binding once, with an actionable message when it is missing. */
function binding(): FaissModule {
  if (faiss) return faiss;
  try {
    faiss = createRequire(import.meta.url)('faiss-node') as FaissModule;
    return faiss;
  } catch (err) {
    throw new Error(
      `The FAISS binding (faiss-node) is not built: ${(err as Error).message.split('\n')[0]}. ` +
        'Run `npm install` (it compiles the binding; needs: apt-get install -y libfaiss-dev libblas-dev liblapack-dev g++).',
    );
  }
}

export class FaissIndex implements VectorIndex {
  private constructor(
    private readonly native: NativeIndex,
    readonly factory: string,
  ) {}

  /**
   * A new, empty index. Trainable types (IVF...) are trained on the first `add`.
   * `params` are search-time settings such as { efSearch: 128 } (HNSW) or { nprobe: 16 } (IVF).
   */
  static create(dimension: number, factory = 'Flat', params: Record<string, number> = {}): FaissIndex {
    const f = binding();
    return new FaissIndex(f.Index.fromFactory(dimension, factory, f.MetricType.METRIC_INNER_PRODUCT), factory).withParams(params);
  }

  static fromBuffer(buffer: Buffer, factory: string, params: Record<string, number> = {}): FaissIndex {
    return new FaissIndex(binding().Index.fromBuffer(buffer), factory).withParams(params);
  }

  private withParams(params: Record<string, number>): this {
    for (const [name, value] of Object.entries(params)) this.native.setParameter(name, value);
    return this;
  }

  get dimension(): number {
    return this.native.getDimension();
  }

  get size(): number {
    return this.native.ntotal();
  }

  add(vectors: readonly Float32Array[]): void {
    if (vectors.length === 0) return;
    const flat = flatten(vectors, this.dimension);
    if (!this.native.isTrained()) this.native.train(flat);
    this.native.add(flat);
  }

  search(query: Float32Array, k: number): SearchHit[] {
    const n = Math.min(k, this.size);
    if (n <= 0) return [];
    if (query.length !== this.dimension) throw new Error(`query has ${query.length} dimensions, the index ${this.dimension}`);
    const { distances, labels } = this.native.search(Array.from(query), n);
    const hits: SearchHit[] = [];
    for (let i = 0; i < labels.length; i++) if (labels[i]! >= 0) hits.push({ position: labels[i]!, score: distances[i]! });
    return hits;
  }

  toBuffer(): Buffer {
    return this.native.toBuffer();
  }
}

function flatten(vectors: readonly Float32Array[], dimension: number): number[] {
  const flat = new Array<number>(vectors.length * dimension);
  vectors.forEach((v, i) => {
    if (v.length !== dimension) throw new Error(`vector ${i} has ${v.length} dimensions, the index ${dimension}`);
    for (let j = 0; j < dimension; j++) flat[i * dimension + j] = v[j]!;
  });
  return flat;
}
