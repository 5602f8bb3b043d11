/**
 * Gradient transformations (after optax): each rewrites the update vectors of the whole parameter
 * list in place, possibly keeping per-parameter state, and `chain` composes them. An optimizer is one
 * transformation, and the position of the weight decay in its chain gives the decay its meaning:
 *   SGD   = chain(addDecayedWeights, traceMomentum, scaleByLearningRate)   coupled L2 (PyTorch SGD)
 *   Adam  = chain(addDecayedWeights, scaleByAdam, scaleByLearningRate)     coupled L2 (PyTorch Adam)
 *   AdamW = chain(scaleByAdam, addDecayedWeights, scaleByLearningRate)     decoupled (PyTorch AdamW)
 * The updates start as the gradients and are then added to the weights: w ← w + u; a transform may
 * also act after that (`afterApply`: the proximal L1 step). Arithmetic is in float64 on host copies
 * (`ChainOptimizer`); the built-in optimizers run the same updates as one fused kernel per parameter
 * (fused.ts), and these transforms are their readable definition, tested equal in float64.
 *
 * Hyper-parameters given to a transform are fixed; those left out are read, at every step, from the
 * options of the parameter's group — what per-group settings and learning-rate schedulers change.
 * `masked` applies a transformation to some parameters only, `partition` a different one per label.
 */
import { ValueError } from '../util/errors.js';

/**
 * The hyper-parameters a group may carry, each typed: what the transforms read when they were not
 * given a value.
 */
export type GroupOptions = Readonly<
  { lr: number } & Partial<DecayOptions & MomentumOptions & AdamOptions & RmsOptions & AdagradOptions>
>;

/** What a transformation sees of one parameter. */
export interface ParamContext {
  /** The parameter's values, row-major (a host copy, read on first call). */
  weights(): ArrayLike<number>;
  /** Its state: named float64 buffers (saved by the optimizer's stateDict) and the step count. */
  state: ParamState;
  /** The options of its group (lr, weightDecay, …). */
  options: GroupOptions;
  /** The group's name. */
  group: string;
  /** Its position in the optimizer's parameter list, and its shape. */
  index: number;
  shape: readonly number[];
}

/** Per-parameter state: named float64 buffers plus the step count. */
export interface ParamState {
  step: number;
  buffers: Record<string, Float64Array>;
  /** Reused update vector (not part of the saved state). */
  scratch?: Float64Array;
}

/** A gradient transformation over a parameter list (optax's GradientTransformation). */
export interface GradientTransform {
  readonly name: string;
  /** Rewrites `updates[i]` (the update of parameter `params[i]`) in place. */
  update(updates: Float64Array[], params: readonly ParamContext[]): void;
  /**
   * With these group options, is this transformation u ← k·u for every element? Then k (1 when it
   * does nothing), else null — so an optimizer can run a plain chain as one in-place kernel.
   */
  scale?(options: GroupOptions): number | null;
  /** Runs after the updates were added to the weights; may rewrite the weights of `params`. */
  afterApply?(
    params: readonly ParamContext[],
    write: (i: number, values: Float64Array | Float32Array) => void,
  ): void;
}

/** A fixed value, or the option `key` of the parameter's group. */
function hp(given: number | undefined, p: ParamContext, key: 'lr' | 'weightDecay'): number {
  if (given !== undefined) return given;
  const v = p.options[key];
  if (typeof v !== 'number')
    throw new ValueError(
      `${key} is not set for group '${p.group}' (pass it to the transform or to the optimizer)`,
    );
  return v;
}

/** Each option of `defaults` as the transform was given it, else as the parameter's group has it, else the default. */
function resolve<T extends object>(own: Partial<T>, group: Partial<T>, defaults: T): T {
  const out = { ...defaults };
  for (const k of Object.keys(defaults) as (keyof T)[]) out[k] = own[k] ?? group[k] ?? defaults[k];
  return out;
}

function buffer(s: ParamState, name: string, n: number, init = 0): [Float64Array, boolean] {
  const b = s.buffers[name];
  if (b) return [b, false];
  const created = new Float64Array(n).fill(init);
  s.buffers[name] = created;
  return [created, true];
}

/** A transformation applied to each parameter on its own. */
function perParam(
  name: string,
  fn: (u: Float64Array, p: ParamContext) => void,
  scale?: GradientTransform['scale'],
): GradientTransform {
  return {
    name,
    update(updates, params) {
      for (let i = 0; i < updates.length; i++) fn(updates[i], params[i]);
    },
    scale,
  };
}

/** Applies `transforms` in order. */
export function chain(...transforms: GradientTransform[]): GradientTransform {
  return {
    name: `chain(${transforms.map((t) => t.name).join(', ')})`,
    update(updates, params) {
      for (const t of transforms) t.update(updates, params);
    },
    scale(o) {
      let k = 1;
      for (const t of transforms) {
        const s = t.scale?.(o);
        if (s === null || s === undefined) return null;
        k *= s;
      }
      return k;
    },
    afterApply(params, write) {
      for (const t of transforms) t.afterApply?.(params, write);
    },
  };
}

/** Applies `transform` to the parameters for which `mask` is true, leaving the others' updates alone. */
export function masked(transform: GradientTransform, mask: (p: ParamContext) => boolean): GradientTransform {
  return partition({ on: transform, off: identity() }, (p) => (mask(p) ? 'on' : 'off'));
}

/** Applies `transforms[label(p)]` to each parameter p (optax's partition). */
export function partition(
  transforms: Record<string, GradientTransform>,
  label: (p: ParamContext) => string,
): GradientTransform {
  /** Positions of the parameters of each label. */
  const split = (params: readonly ParamContext[]) => {
    const parts = new Map<string, number[]>();
    params.forEach((p, i) => {
      const l = label(p);
      if (!transforms[l])
        throw new ValueError(
          `partition: label '${l}' has no transformation (labels: ${Object.keys(transforms).join(', ')})`,
        );
      const part = parts.get(l);
      if (part) part.push(i);
      else parts.set(l, [i]);
    });
    return parts;
  };
  return {
    name: `partition(${Object.entries(transforms)
      .map(([l, t]) => `${l}: ${t.name}`)
      .join(', ')})`,
    update(updates, params) {
      for (const [l, idx] of split(params))
        transforms[l].update(
          idx.map((i) => updates[i]),
          idx.map((i) => params[i]),
        );
    },
    afterApply(params, write) {
      for (const [l, idx] of split(params))
        transforms[l].afterApply?.(
          idx.map((i) => params[i]),
          (j, v) => write(idx[j], v),
        );
    },
  };
}

/** Leaves the updates as they are. */
export function identity(): GradientTransform {
  return { name: 'identity', update() {}, scale: () => 1 };
}

/** Options of the weight-decay transformation (each read from the group when not given). */
export interface DecayOptions {
  /** λ ≥ 0. */
  weightDecay: number;
  /** 'l2': u += λ·w (the gradient of λ/2·‖w‖²); 'l1': u += λ·sign(w) (unless proximal). */
  penalty: 'l2' | 'l1';
  /** With 'l1': skip the subgradient; `proximalL1` soft-thresholds the weights after the step. */
  proximal: boolean;
}

/** u += λ·w (L2) or λ·sign(w) (L1, unless proximal). Its position in a chain decides coupled vs decoupled. */
export function addDecayedWeights(opts: Partial<DecayOptions> = {}): GradientTransform {
  const settings = (p: GroupOptions) => ({
    lambda: opts.weightDecay ?? p.weightDecay ?? 0,
    penalty: opts.penalty ?? p.penalty ?? 'l2',
    proximal: opts.proximal ?? p.proximal ?? false,
  });
  const noop = (o: GroupOptions) => {
    const s = settings(o);
    return s.lambda === 0 || (s.penalty === 'l1' && s.proximal);
  };
  return perParam(
    'addDecayedWeights',
    (u, p) => {
      if (noop(p.options)) return;
      const { lambda, penalty } = settings(p.options);
      const w = p.weights();
      if (penalty === 'l2') for (let i = 0; i < u.length; i++) u[i] += lambda * w[i];
      else for (let i = 0; i < u.length; i++) u[i] += lambda * Math.sign(w[i]);
    },
    (o) => (noop(o) ? 1 : null),
  );
}

/** Options of SGD's momentum. */
export interface MomentumOptions {
  momentum: number;
  dampening: number;
  nesterov: boolean;
}

/** PyTorch's SGD momentum: b ← μb + (1−τ)u (b = u on the first step); u ← b, or u + μb with Nesterov. */
export function traceMomentum(opts: Partial<MomentumOptions> = {}): GradientTransform {
  const mu = (o: GroupOptions) => opts.momentum ?? o.momentum ?? 0;
  return perParam(
    'traceMomentum',
    (u, p) => {
      const m = mu(p.options);
      if (m === 0) return;
      const damp = opts.dampening ?? p.options.dampening ?? 0;
      const nesterov = opts.nesterov ?? p.options.nesterov ?? false;
      const [b, fresh] = buffer(p.state, 'momentumBuffer', u.length);
      const keep = 1 - damp;
      for (let i = 0; i < u.length; i++) {
        b[i] = fresh ? u[i] : m * b[i] + keep * u[i];
        u[i] = nesterov ? u[i] + m * b[i] : b[i];
      }
    },
    (o) => (mu(o) === 0 ? 1 : null),
  );
}

/** Options of Adam. */
export interface AdamOptions {
  betas: [number, number];
  eps: number;
  amsgrad: boolean;
}

const ADAM_DEFAULTS: AdamOptions = { betas: [0.9, 0.999], eps: 1e-8, amsgrad: false };

/** Adam's direction m̂/(√v̂ + ε) with bias correction (and AMSGrad's running max of v). */
export function scaleByAdam(opts: Partial<AdamOptions> = {}): GradientTransform {
  return perParam('scaleByAdam', (u, p) => {
    const { betas, eps, amsgrad } = resolve(opts, p.options, ADAM_DEFAULTS);
    const [b1, b2] = betas;
    const s = p.state;
    const [m] = buffer(s, 'expAvg', u.length);
    const [v] = buffer(s, 'expAvgSq', u.length);
    const vmax = amsgrad ? buffer(s, 'maxExpAvgSq', u.length)[0] : null;
    const bc1 = 1 - b1 ** s.step;
    const sqrtBc2 = Math.sqrt(1 - b2 ** s.step);
    for (let i = 0; i < u.length; i++) {
      const g = u[i];
      m[i] = b1 * m[i] + (1 - b1) * g;
      v[i] = b2 * v[i] + (1 - b2) * (g * g);
      let vv = v[i];
      if (vmax) {
        if (vv > vmax[i]) vmax[i] = vv;
        vv = vmax[i];
      }
      u[i] = m[i] / bc1 / (Math.sqrt(vv) / sqrtBc2 + eps);
    }
  });
}

/** Options of RMSprop. */
export interface RmsOptions {
  alpha: number;
  eps: number;
  centered: boolean;
  momentum: number;
}

const RMS_DEFAULTS: RmsOptions = { alpha: 0.99, eps: 1e-8, centered: false, momentum: 0 };

/** RMSprop (PyTorch): v ← αv + (1−α)g²; u ← g/(√(v − ḡ²) + ε) if centered; with momentum b ← μb + u. */
export function scaleByRms(opts: Partial<RmsOptions> = {}): GradientTransform {
  return perParam('scaleByRms', (u, p) => {
    const { alpha: a, eps, centered, momentum } = resolve(opts, p.options, RMS_DEFAULTS);
    const s = p.state;
    const [v] = buffer(s, 'squareAvg', u.length);
    const ga = centered ? buffer(s, 'gradAvg', u.length)[0] : null;
    const mb = momentum > 0 ? buffer(s, 'momentumBuffer', u.length)[0] : null;
    for (let i = 0; i < u.length; i++) {
      const g = u[i];
      v[i] = a * v[i] + (1 - a) * (g * g);
      let avg: number;
      if (ga) {
        ga[i] = a * ga[i] + (1 - a) * g;
        avg = Math.sqrt(v[i] - ga[i] * ga[i]) + eps;
      } else avg = Math.sqrt(v[i]) + eps;
      if (mb) {
        mb[i] = momentum * mb[i] + g / avg;
        u[i] = mb[i];
      } else u[i] = g / avg;
    }
  });
}

/** Options of Adagrad. */
export interface AdagradOptions {
  lrDecay: number;
  initialAccumulatorValue: number;
  eps: number;
}

const ADAGRAD_DEFAULTS: AdagradOptions = { lrDecay: 0, initialAccumulatorValue: 0, eps: 1e-10 };

/** Adagrad (PyTorch): Σ ← Σ + g²; u ← g/(√Σ + ε) / (1 + (t−1)·lrDecay). */
export function scaleByAdagrad(opts: Partial<AdagradOptions> = {}): GradientTransform {
  return perParam('scaleByAdagrad', (u, p) => {
    const { initialAccumulatorValue: init, eps, lrDecay } = resolve(opts, p.options, ADAGRAD_DEFAULTS);
    const [acc] = buffer(p.state, 'sum', u.length, init);
    const decay = 1 / (1 + (p.state.step - 1) * lrDecay);
    for (let i = 0; i < u.length; i++) {
      acc[i] += u[i] * u[i];
      u[i] = (decay * u[i]) / (Math.sqrt(acc[i]) + eps);
    }
  });
}

/** u ← −lr·u (the step goes downhill); `lr` fixed, or the group's (what schedulers change). */
export function scaleByLearningRate(lr?: number): GradientTransform {
  return perParam(
    'scaleByLearningRate',
    (u, p) => {
      const k = -hp(lr, p, 'lr');
      for (let i = 0; i < u.length; i++) u[i] *= k;
    },
    (o) => -(lr ?? o.lr),
  );
}

/**
 * Scales all updates together so that their total 2-norm is at most `maxNorm` (u ← u·maxNorm/(‖u‖ +
 * 1e-6) when above, as clipGradNorm_): placed first in a chain it clips the gradients.
 */
export function clipByGlobalNorm(maxNorm: number): GradientTransform {
  if (!(maxNorm >= 0)) throw new ValueError(`clipByGlobalNorm: maxNorm must be ≥ 0, got ${maxNorm}`);
  return {
    name: 'clipByGlobalNorm',
    update(updates) {
      let sq = 0;
      for (const u of updates) for (let i = 0; i < u.length; i++) sq += u[i] * u[i];
      const coef = maxNorm / (Math.sqrt(sq) + 1e-6);
      if (coef < 1) for (const u of updates) for (let i = 0; i < u.length; i++) u[i] *= coef;
    },
  };
}

/**
 * The proximal step of L1, after the update: w ← sign(w)·max(|w| − lr·λ, 0), which makes exact
 * zeros. Active for groups with penalty 'l1', proximal true and λ > 0 (or always, given `threshold`
 * values through the options it reads: weightDecay, lr).
 */
export function proximalL1(opts: { weightDecay?: number; lr?: number } = {}): GradientTransform {
  const active = (o: GroupOptions) =>
    (opts.weightDecay !== undefined || (o.penalty === 'l1' && o.proximal === true)) &&
    (opts.weightDecay ?? o.weightDecay ?? 0) > 0;
  return {
    name: 'proximalL1',
    update() {},
    scale: (o) => (active(o) ? null : 1),
    afterApply(params, write) {
      params.forEach((p, i) => {
        if (!active(p.options)) return;
        const t = hp(opts.lr, p, 'lr') * hp(opts.weightDecay, p, 'weightDecay');
        const w = Float64Array.from(p.weights());
        softThreshold(w, t);
        write(i, w);
      });
    },
  };
}

/** w ← sign(w)·max(|w| − threshold, 0) in place. */
export function softThreshold(w: Float64Array | Float32Array, threshold: number): void {
  for (let i = 0; i < w.length; i++) {
    const v = w[i];
    w[i] = v > threshold ? v - threshold : v < -threshold ? v + threshold : 0;
  }
}
