/**
 * Gradient transformations (after optax): each rewrites the update vector `u` of one parameter in
 * place, possibly keeping state. An optimizer is a chain of them and the position of the weight
 * decay transform gives it its meaning:
 *   SGD   = [decay, momentum, −lr]       coupled L2: u = g + λw before momentum (PyTorch SGD)
 *   Adam  = [decay, adam, −lr]           coupled L2 inside the adaptive step (PyTorch Adam)
 *   AdamW = [adam, decay, −lr]           decoupled: w ← w − lr·(adam(g) + λw) (PyTorch AdamW)
 * The update is then added to the weights: w ← w + u. Arithmetic is in float64, on host copies of
 * the gradient (and of the weights, for the transforms that read them).
 */

/** Per-parameter state: named float64 buffers plus the step count. */
export interface ParamState {
  step: number;
  buffers: Record<string, Float64Array>;
  /** Reused update vector (not part of the saved state). */
  scratch?: Float64Array;
}

/** One transformation of the update; `o` holds the group's hyper-parameters. */
export interface Transform<O> {
  readonly name: string;
  /** `w()` gives the parameter's values (a host copy, read on first call). */
  apply(u: Float64Array, w: () => ArrayLike<number>, s: ParamState, o: O): void;
  /** True when, with these options, `apply` would leave `u` and the state untouched (skipped). */
  isNoop?(o: O): boolean;
}

function buffer(s: ParamState, name: string, n: number, init = 0): [Float64Array, boolean] {
  const b = s.buffers[name];
  if (b) return [b, false];
  const created = new Float64Array(n).fill(init);
  s.buffers[name] = created;
  return [created, true];
}

/** Options read by the weight-decay transforms. */
export interface DecayOptions {
  /** λ ≥ 0. */
  weightDecay: number;
  /** 'l2': u += λ·w (the gradient of λ/2·‖w‖²); 'l1': u += λ·sign(w) (unless proximal). */
  penalty: 'l2' | 'l1';
  /** With 'l1': skip the subgradient and soft-threshold the weights after the step (exact zeros). */
  proximal: boolean;
}

/** u += λ·w (L2) or λ·sign(w) (L1, when not proximal). Its position in the chain decides coupled vs decoupled. */
export const addDecayedWeights: Transform<DecayOptions> = {
  name: 'addDecayedWeights',
  isNoop: (o) => o.weightDecay === 0 || (o.penalty === 'l1' && o.proximal),
  apply(u, weights, _s, o) {
    const lambda = o.weightDecay;
    if (lambda === 0) return;
    const w = weights();
    if (o.penalty === 'l2') {
      for (let i = 0; i < u.length; i++) u[i] += lambda * w[i];
    } else if (!o.proximal) {
      for (let i = 0; i < u.length; i++) u[i] += lambda * Math.sign(w[i]);
    }
  },
};

/** Options of SGD's momentum. */
export interface MomentumOptions {
  momentum: number;
  dampening: number;
  nesterov: boolean;
}

/** PyTorch's SGD momentum: b ← μb + (1−τ)u (b = u on the first step); u ← b, or u + μb with Nesterov. */
export const trace: Transform<MomentumOptions> = {
  name: 'trace',
  isNoop: (o) => o.momentum === 0,
  apply(u, _w, s, o) {
    if (o.momentum === 0) return;
    const [b, fresh] = buffer(s, 'momentumBuffer', u.length);
    const m = o.momentum;
    const keep = 1 - o.dampening;
    for (let i = 0; i < u.length; i++) {
      b[i] = fresh ? u[i] : m * b[i] + keep * u[i];
      u[i] = o.nesterov ? u[i] + m * b[i] : b[i];
    }
  },
};

/** Options of Adam. */
export interface AdamOptions {
  betas: [number, number];
  eps: number;
  amsgrad: boolean;
}

/** Adam's direction m̂/(√v̂ + ε) with bias correction (and AMSGrad's running max of v). */
export const scaleByAdam: Transform<AdamOptions> = {
  name: 'scaleByAdam',
  apply(u, _w, s, o) {
    const [b1, b2] = o.betas;
    const [m] = buffer(s, 'expAvg', u.length);
    const [v] = buffer(s, 'expAvgSq', u.length);
    const vmax = o.amsgrad ? buffer(s, 'maxExpAvgSq', u.length)[0] : null;
    const bc1 = 1 - b1 ** s.step;
    const sqrtBc2 = Math.sqrt(1 - b2 ** s.step);
    for (let i = 0; i < u.length; i++) {
      const g = u[i];
      m[i] = b1 * m[i] + (1 - b1) * g;
      v[i] = b2 * v[i] + (1 - b2) * g * g;
      let vv = v[i];
      if (vmax) {
        if (vv > vmax[i]) vmax[i] = vv;
        vv = vmax[i];
      }
      u[i] = m[i] / bc1 / (Math.sqrt(vv) / sqrtBc2 + o.eps);
    }
  },
};

/** Options of RMSprop. */
export interface RmsOptions {
  alpha: number;
  eps: number;
  centered: boolean;
  momentum: number;
}

/** RMSprop (PyTorch): v ← αv + (1−α)g²; u ← g/(√(v − ḡ²) + ε) if centered; with momentum b ← μb + u. */
export const scaleByRms: Transform<RmsOptions> = {
  name: 'scaleByRms',
  apply(u, _w, s, o) {
    const [v] = buffer(s, 'squareAvg', u.length);
    const ga = o.centered ? buffer(s, 'gradAvg', u.length)[0] : null;
    const mb = o.momentum > 0 ? buffer(s, 'momentumBuffer', u.length)[0] : null;
    const a = o.alpha;
    for (let i = 0; i < u.length; i++) {
      const g = u[i];
      v[i] = a * v[i] + (1 - a) * g * g;
      let avg: number;
      if (ga) {
        ga[i] = a * ga[i] + (1 - a) * g;
        avg = Math.sqrt(v[i] - ga[i] * ga[i]) + o.eps;
      } else avg = Math.sqrt(v[i]) + o.eps;
      if (mb) {
        mb[i] = o.momentum * mb[i] + g / avg;
        u[i] = mb[i];
      } else u[i] = g / avg;
    }
  },
};

/** Options of Adagrad. */
export interface AdagradOptions {
  lrDecay: number;
  initialAccumulatorValue: number;
  eps: number;
}

/** Adagrad (PyTorch): Σ ← Σ + g²; u ← g/(√Σ + ε) / (1 + (t−1)·lrDecay). */
export const scaleByAdagrad: Transform<AdagradOptions> = {
  name: 'scaleByAdagrad',
  apply(u, _w, s, o) {
    const [acc] = buffer(s, 'sum', u.length, o.initialAccumulatorValue);
    const decay = 1 / (1 + (s.step - 1) * o.lrDecay);
    for (let i = 0; i < u.length; i++) {
      acc[i] += u[i] * u[i];
      u[i] = (decay * u[i]) / (Math.sqrt(acc[i]) + o.eps);
    }
  },
};

/** Options read by the final scaling. */
export interface LrOptions {
  lr: number;
}

/** u ← −lr·u (the step goes downhill). */
export const scaleByLearningRate: Transform<LrOptions> = {
  name: 'scaleByLearningRate',
  apply(u, _w, _s, o) {
    for (let i = 0; i < u.length; i++) u[i] *= -o.lr;
  },
};

/** The proximal step of L1 after the update: w ← sign(w)·max(|w| − lr·λ, 0), which makes exact zeros. */
export function softThreshold(w: Float64Array | Float32Array, threshold: number): void {
  for (let i = 0; i < w.length; i++) {
    const v = w[i];
    w[i] = v > threshold ? v - threshold : v < -threshold ? v + threshold : 0;
  }
}
