/**
 * Synthetic embedding-like vectors for retrieval benchmarks: a random linear
 * map of a 32-dimensional latent Gaussian plus isotropic noise, L2-normalised.
 * Like real text embeddings, they have a low intrinsic dimension, so nearest
 * neighbours are meaningful (unlike i.i.d. random vectors, where every point
 * is about equally far from every other). Seeded, so runs are comparable.
 */
import { l2normalize } from '../../src/rag/embedder.js';

export function syntheticVectors(n: number, dimension: number, seed = 42, latent = 32): Float32Array[] {
  let s = seed >>> 0;
  const rnd = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 0.5) / 2 ** 32;
  };
  const gauss = () => Math.sqrt(-2 * Math.log(rnd())) * Math.cos(2 * Math.PI * rnd());
  // The map W is fixed by the dimension (seed 7) so queries and data share it.
  let ws = 7;
  const wrnd = () => {
    ws = (Math.imul(ws, 22695477) + 1) >>> 0;
    return (ws + 0.5) / 2 ** 32;
  };
  const W = Array.from({ length: dimension }, () => Float32Array.from({ length: latent }, () => Math.sqrt(-2 * Math.log(wrnd())) * Math.cos(2 * Math.PI * wrnd())));
  const out: Float32Array[] = [];
  const z = new Float32Array(latent);
  for (let i = 0; i < n; i++) {
    for (let l = 0; l < latent; l++) z[l] = gauss();
    const v = new Float32Array(dimension);
    for (let j = 0; j < dimension; j++) {
      const w = W[j]!;
      let acc = 0;
      for (let l = 0; l < latent; l++) acc += w[l]! * z[l]!;
      v[j] = acc + gauss();
    }
    out.push(l2normalize(v));
  }
  return out;
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}
