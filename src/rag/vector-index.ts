/** The vector index interface: inner-product search over unit vectors (cosine similarity). */

export interface SearchHit {
  /** Position of the vector in insertion order. */
  position: number;
  score: number;
}

export interface VectorIndex {
  readonly dimension: number;
  readonly size: number;
  /** Appends vectors; their positions continue from `size`. */
  add(vectors: readonly Float32Array[]): void;
  /** The k nearest vectors, best first. */
  search(query: Float32Array, k: number): SearchHit[];
  /** Serialised index, for writing to disk. */
  toBuffer(): Buffer;
}
