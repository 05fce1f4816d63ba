/** The embedder interface: texts in, unit-length vectors out. */

export interface Embedder {
  /** Provider name recorded in the index metadata, e.g. `local`, `openai`. */
  readonly provider: string;
  /** Model name recorded in the index metadata. */
  readonly model: string;
  readonly dimension: number;
  /** One L2-normalised vector per text, in order. */
  embed(texts: readonly string[]): Promise<Float32Array[]>;
}

/** Scales a vector to unit length in place (a zero vector stays zero). */
export function l2normalize(v: Float32Array): Float32Array {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i]! * v[i]!;
  const norm = Math.sqrt(sum);
  if (norm > 0) for (let i = 0; i < v.length; i++) v[i]! /= norm;
  return v;
}
