/**
 * The fused optimizer update, as a backend kernel sees it: one pass over a parameter, its gradient
 * and its state buffers, with the hyper-parameters of this step in a small float64 vector. The
 * optimizer (optim/) fills that vector before each step; the kernel only reads it, so a compiled
 * plan replays the same kernel with the values of each step. Per element, in this order:
 *
 *   u = g
 *   coupled decay:    u += λ·w (L2) or λ·sign(w) (L1)                      (SGD, Adam, RMSprop, Adagrad)
 *   the family's transform of u (state updated in place):
 *     sgd       b = first ? u : μ·b + (1−τ)·u;  u = nesterov ? u + μ·b : b       (when μ ≠ 0)
 *     adam      m = β1·m + (1−β1)·u;  v = β2·v + (1−β2)·u·u;  v̂ = amsgrad ? (vmax = max(vmax, v)) : v;
 *               u = (m / bc1) / (√v̂ / √bc2 + ε)
 *     rmsprop   v = α·v + (1−α)·u²;  a = √(v − ḡ²) + ε with ḡ = α·ḡ + (1−α)·u when centered, else √v + ε;
 *               u = u / a, or b = μ·b + u / a and u = b with momentum
 *     adagrad   s = s + u²;  u = d·u / (√s + ε) with d = 1 / (1 + (t−1)·lrDecay)
 *   decoupled decay:  u += λ·w (L2) or λ·sign(w) (L1)                      (AdamW)
 *   w = w + (−lr)·u
 *   proximal L1:      w = sign(w)·max(|w| − lr·λ, 0)
 *
 * float32 parameters are computed in float32 with every operation rounded (no fused multiply-add;
 * the js reference rounds each step with Math.fround, SIMD kernels give the same bits); float64
 * ones in float64. sign(NaN) is 0 here. The hyper-parameter scalars are rounded to the parameter's
 * dtype once per call.
 *
 * float32 state is flushed to zero below the smallest normal float (|x| < 2⁻¹²⁶, FLT_MIN; NaN is
 * kept): every state value the transform computes (b, m, v, vmax, ḡ, s) is flushed before it is
 * stored and used. A moment whose gradient stays 0 decays geometrically (m ← 0.9·m) through the
 * subnormal range for ~150 steps before it underflows, and CPUs compute on subnormals through a
 * slow microcode path: a long AdamW training on Fashion-MNIST slowed from 4 to 16 s/epoch with half
 * a million subnormal moments. What is flushed is below 1.2e-38, far under ε, so updates do not move.
 */

/** The optimizer families a backend updates in one pass. */
export type OptimizerFamily = 'sgd' | 'adam' | 'rmsprop' | 'adagrad';

/** Where weight decay enters the update (see the file's header). */
export const DecayMode = {
  none: 0,
  coupledL2: 1,
  coupledL1: 2,
  decoupledL2: 3,
  decoupledL1: 4,
  proximal: 5,
} as const;

/** Indices into the hyper-parameter vector. */
export const H = {
  lr: 0,
  /** λ. */
  decay: 1,
  /** A `DecayMode` value. */
  decayMode: 2,
  // sgd
  momentum: 3,
  dampening: 4,
  nesterov: 5,
  /** 1 on the step that creates the momentum buffer (b = u). */
  first: 6,
  // adam
  beta1: 3,
  beta2: 4,
  eps: 5,
  amsgrad: 6,
  /** 1 − β1ᵗ. */
  bc1: 7,
  /** √(1 − β2ᵗ). */
  sqrtBc2: 8,
  // rmsprop
  alpha: 3,
  rmsEps: 4,
  centered: 5,
  rmsMomentum: 6,
  // adagrad
  adagradEps: 3,
  /** 1 / (1 + (t−1)·lrDecay). */
  lrDecayFactor: 4,
} as const;

/** Length of the hyper-parameter vector. */
export const H_LENGTH = 9;

/**
 * The state buffers a family's update reads and writes, in the order the kernel takes them, for the
 * flags in `h` (each the parameter's shape and dtype). The names are those of checkpoints.
 */
export function stateNames(family: OptimizerFamily, h: Float64Array): string[] {
  switch (family) {
    case 'sgd':
      return h[H.momentum] !== 0 ? ['momentumBuffer'] : [];
    case 'adam':
      return h[H.amsgrad] !== 0 ? ['expAvg', 'expAvgSq', 'maxExpAvgSq'] : ['expAvg', 'expAvgSq'];
    case 'rmsprop':
      return [
        'squareAvg',
        ...(h[H.centered] !== 0 ? ['gradAvg'] : []),
        ...(h[H.rmsMomentum] !== 0 ? ['momentumBuffer'] : []),
      ];
    case 'adagrad':
      return ['sum'];
    default:
      return family satisfies never;
  }
}
