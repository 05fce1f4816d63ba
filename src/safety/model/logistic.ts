/**
 * Binary logistic regression on hashed, L2-normalised binary features (one value
 * per row: 1/sqrt(active buckets)), L2-regularised and class-balanced.
 *
 * Trained full-batch with L-BFGS: no random numbers and every sum in corpus
 * order, so the same rows give bit-identical weights on every run. The
 * objective is strictly convex, so there is one optimum; the stopping rule only
 * decides how close we get. Only the buckets that occur in training are
 * optimised (the rest have zero gradient and stay exactly 0), which keeps a
 * 2,000-line fit to well under a second.
 */

/** Training options. */
export interface LogisticOptions {
  /** L2 penalty on the weights (not the bias), per unit of averaged loss (default 1e-5, the best of 1e-3..1e-6 in 5-fold cross-validation on the train split). */
  l2?: number;
  /** Iteration cap (default 400). */
  maxIterations?: number;
  /** Stop when the gradient's Euclidean norm falls below this (default 1e-6). */
  tolerance?: number;
  /** L-BFGS history length (default 10). */
  memory?: number;
  /** Called after each iteration with the iteration number, the cap and the objective. */
  onProgress?: (iteration: number, maxIterations: number, loss: number) => void;
}

/** Defaults for LogisticOptions. */
export const LOGISTIC_DEFAULTS = Object.freeze({ l2: 1e-5, maxIterations: 400, tolerance: 1e-6, memory: 10 });

/** A trained model: sparse weights over buckets plus a bias. */
export interface LogisticFit {
  /** Buckets with a weight, ascending. */
  buckets: Uint32Array;
  /** Weight of each bucket in `buckets`. */
  weights: Float64Array;
  bias: number;
  /** Iterations run. */
  iterations: number;
  /** Final objective (balanced mean log-loss plus penalty). */
  loss: number;
  /** Final gradient norm. */
  gradientNorm: number;
  /** Whether the gradient-norm tolerance was met before the cap. */
  converged: boolean;
}

/**
 * Fits the model. `rows[i]` holds the distinct buckets of example i (as
 * FeatureExtractor gives them), `risk[i]` its class. Each class gets half the
 * total weight whatever its size, so a corpus with more N than risk lines does
 * not tilt the fit toward "no risk".
 */
export function trainLogistic(rows: readonly Uint32Array[], risk: readonly boolean[], options: LogisticOptions = {}): LogisticFit {
  const l2 = options.l2 ?? LOGISTIC_DEFAULTS.l2;
  const maxIterations = options.maxIterations ?? LOGISTIC_DEFAULTS.maxIterations;
  const tolerance = options.tolerance ?? LOGISTIC_DEFAULTS.tolerance;
  const m = options.memory ?? LOGISTIC_DEFAULTS.memory;
  const n = rows.length;
  if (n !== risk.length) throw new Error(`rows (${n}) and labels (${risk.length}) differ in length`);
  const positives = risk.filter(Boolean).length;
  if (positives === 0 || positives === n) throw new Error('training needs both risk and non-risk examples');

  // Compact the columns to the buckets that occur, ascending (a deterministic order).
  const seen = new Set<number>();
  for (const r of rows) for (const b of r) seen.add(b);
  const buckets = Uint32Array.from(seen).sort();
  const column = new Map<number, number>();
  buckets.forEach((b, j) => column.set(b, j));
  const offsets = new Uint32Array(n + 1);
  for (let i = 0; i < n; i++) offsets[i + 1] = offsets[i]! + rows[i]!.length;
  const cols = new Uint32Array(offsets[n]!);
  const value = new Float64Array(n);
  const y = new Float64Array(n);
  const weight = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const r = rows[i]!;
    for (let k = 0; k < r.length; k++) cols[offsets[i]! + k] = column.get(r[k]!)!;
    value[i] = r.length > 0 ? 1 / Math.sqrt(r.length) : 0;
    y[i] = risk[i] ? 1 : -1;
    weight[i] = n / (2 * (risk[i] ? positives : n - positives)) / n; // balanced, averaged
  }

  const d = buckets.length + 1; // last coordinate is the bias
  const z = new Float64Array(n);
  const coef = new Float64Array(n);

  /** Objective at theta; writes its gradient into grad. */
  const evaluate = (theta: Float64Array, grad: Float64Array): number => {
    const bias = theta[d - 1]!;
    let loss = 0;
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let k = offsets[i]!; k < offsets[i + 1]!; k++) s += theta[cols[k]!]!;
      const zi = bias + value[i]! * s;
      z[i] = zi;
      const margin = y[i]! * zi;
      loss += weight[i]! * (margin > 0 ? Math.log1p(Math.exp(-margin)) : -margin + Math.log1p(Math.exp(margin)));
      // d loss / d z = -y * sigmoid(-margin)
      const sig = margin > 0 ? Math.exp(-margin) / (1 + Math.exp(-margin)) : 1 / (1 + Math.exp(margin));
      coef[i] = -weight[i]! * y[i]! * sig;
    }
    let penalty = 0;
    for (let j = 0; j < d - 1; j++) {
      penalty += theta[j]! * theta[j]!;
      grad[j] = l2 * theta[j]!;
    }
    let gb = 0;
    for (let i = 0; i < n; i++) {
      const c = coef[i]!;
      gb += c;
      const cv = c * value[i]!;
      for (let k = offsets[i]!; k < offsets[i + 1]!; k++) grad[cols[k]!]! += cv;
    }
    grad[d - 1] = gb;
    return loss + 0.5 * l2 * penalty;
  };

  const theta = new Float64Array(d);
  let grad = new Float64Array(d);
  let loss = evaluate(theta, grad);
  const sHist: Float64Array[] = [];
  const yHist: Float64Array[] = [];
  const rho: number[] = [];
  const alpha = new Float64Array(m);
  const dir = new Float64Array(d);
  const next = new Float64Array(d);
  let nextGrad = new Float64Array(d);
  let gNorm = Math.sqrt(dot(grad, grad));
  let iterations = 0;

  while (iterations < maxIterations && gNorm > tolerance) {
    // Two-loop recursion: dir = -H * grad.
    for (let j = 0; j < d; j++) dir[j] = -grad[j]!;
    for (let k = sHist.length - 1; k >= 0; k--) {
      alpha[k] = rho[k]! * dot(sHist[k]!, dir);
      axpy(-alpha[k]!, yHist[k]!, dir);
    }
    if (sHist.length > 0) {
      const last = sHist.length - 1;
      const gamma = dot(sHist[last]!, yHist[last]!) / dot(yHist[last]!, yHist[last]!);
      for (let j = 0; j < d; j++) dir[j]! *= gamma;
    } else {
      for (let j = 0; j < d; j++) dir[j]! /= gNorm; // first step: unit length
    }
    for (let k = 0; k < sHist.length; k++) {
      const beta = rho[k]! * dot(yHist[k]!, dir);
      axpy(alpha[k]! - beta, sHist[k]!, dir);
    }
    let slope = dot(grad, dir);
    if (!(slope < 0)) {
      // Not a descent direction (numerical trouble): forget the history, go down the gradient.
      sHist.length = yHist.length = rho.length = 0;
      for (let j = 0; j < d; j++) dir[j] = -grad[j]! / gNorm;
      slope = -gNorm;
    }

    // Backtracking line search (Armijo).
    let step = 1;
    let nextLoss = Infinity;
    for (let tries = 0; tries < 40; tries++) {
      for (let j = 0; j < d; j++) next[j] = theta[j]! + step * dir[j]!;
      nextLoss = evaluate(next, nextGrad);
      if (nextLoss <= loss + 1e-4 * step * slope) break;
      step *= 0.5;
    }
    if (!(nextLoss < loss)) break; // no progress possible at this precision

    const s = new Float64Array(d);
    const yv = new Float64Array(d);
    for (let j = 0; j < d; j++) {
      s[j] = next[j]! - theta[j]!;
      yv[j] = nextGrad[j]! - grad[j]!;
    }
    const sy = dot(s, yv);
    if (sy > 1e-12) {
      if (sHist.length === m) {
        sHist.shift();
        yHist.shift();
        rho.shift();
      }
      sHist.push(s);
      yHist.push(yv);
      rho.push(1 / sy);
    }
    theta.set(next);
    [grad, nextGrad] = [nextGrad, grad];
    loss = nextLoss;
    gNorm = Math.sqrt(dot(grad, grad));
    iterations++;
    options.onProgress?.(iterations, maxIterations, loss);
  }

  return {
    buckets,
    weights: theta.slice(0, d - 1),
    bias: theta[d - 1]!,
    iterations,
    loss,
    gradientNorm: gNorm,
    converged: gNorm <= tolerance,
  };
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let j = 0; j < a.length; j++) s += a[j]! * b[j]!;
  return s;
}

function axpy(a: number, x: Float64Array, y: Float64Array): void {
  for (let j = 0; j < y.length; j++) y[j]! += a * x[j]!;
}
