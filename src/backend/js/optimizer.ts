/**
 * The js backend's fused optimizer update (the reference of backend/optimizer.ts): one loop per
 * element over the parameter, its gradient and its state, float32 rounded after every operation
 * (Math.fround) so SIMD kernels can match it bit for bit, float64 as is. The parameter and its
 * state are contiguous views of one shape; the gradient may be any view of that shape.
 */
import type { HostView } from '../host.js';
import { DecayMode, H, type OptimizerFamily } from '../optimizer.js';
import { forEachRun } from './iter.js';

const identity = (x: number) => x;

/** The smallest normal float32 (2⁻¹²⁶): float32 state below it in magnitude is flushed to 0. */
const FLT_MIN = 1.1754943508222875e-38;

/** Rounds to float32 and flushes a subnormal result to 0 (NaN kept; see backend/optimizer.ts). */
const froundFtz = (x: number) => {
  const y = Math.fround(x);
  return Math.abs(y) < FLT_MIN ? 0 : y;
};

/** The float sign used by L1 decay: ±1, and 0 for 0 and NaN. */
const sign = (x: number) => (x > 0 ? 1 : x < 0 ? -1 : 0);

export function optimizerStep(
  family: OptimizerFamily,
  w: HostView,
  g: HostView,
  state: readonly HostView[],
  h: Float64Array,
): void {
  const r = w.data instanceof Float32Array ? Math.fround : identity;
  const wd = w.data;
  const gd = g.data;
  const sd = state.map((s) => s.data);
  const so = state.map((s) => s.offset - w.offset);
  const lr = r(h[H.lr]);
  const negLr = r(-h[H.lr]);
  const lambda = r(h[H.decay]);
  const mode = h[H.decayMode];
  const coupled = mode === DecayMode.coupledL2 || mode === DecayMode.coupledL1;
  const decoupled = mode === DecayMode.decoupledL2 || mode === DecayMode.decoupledL1;
  const l1 = mode === DecayMode.coupledL1 || mode === DecayMode.decoupledL1;
  const threshold = mode === DecayMode.proximal ? r(lr * lambda) : 0;
  const transform = familyStep(family, h, r, r === identity ? identity : froundFtz);
  forEachRun(w.shape, [w.strides, g.strides], [w.offset, g.offset], (p, n, s) => {
    for (let i = 0, wi = p[0], gi = p[1]; i < n; i++, wi += s[0], gi += s[1]) {
      const wv = wd[wi];
      let u = gd[gi];
      if (coupled) u = r(u + r(lambda * (l1 ? sign(wv) : wv)));
      u = transform(u, sd, so, wi);
      if (decoupled) u = r(u + r(lambda * (l1 ? sign(wv) : wv)));
      let nw = r(wv + r(negLr * u));
      if (threshold > 0) nw = nw > threshold ? r(nw - threshold) : nw < -threshold ? r(nw + threshold) : 0;
      wd[wi] = nw;
    }
  });
}

type Transform = (u: number, sd: readonly HostView['data'][], so: readonly number[], wi: number) => number;

/**
 * The family's transform of one element's update u (its state at index wi + so[k] of sd[k]); `z`
 * rounds a state value as `r` does and flushes float32 subnormals to 0.
 */
function familyStep(
  family: OptimizerFamily,
  h: Float64Array,
  r: (x: number) => number,
  z: (x: number) => number,
): Transform {
  switch (family) {
    case 'sgd': {
      if (h[H.momentum] === 0) return (u) => u;
      const mu = r(h[H.momentum]);
      const keep = r(1 - h[H.dampening]);
      const first = h[H.first] !== 0;
      const nesterov = h[H.nesterov] !== 0;
      return (u, sd, so, wi) => {
        const b = sd[0];
        const bi = wi + so[0];
        const nb = first ? z(u) : z(r(mu * b[bi]) + r(keep * u));
        b[bi] = nb;
        return nesterov ? r(u + r(mu * nb)) : nb;
      };
    }
    case 'adam': {
      const b1 = r(h[H.beta1]);
      const c1 = r(1 - h[H.beta1]);
      const b2 = r(h[H.beta2]);
      const c2 = r(1 - h[H.beta2]);
      const eps = r(h[H.eps]);
      const bc1 = r(h[H.bc1]);
      const sqrtBc2 = r(h[H.sqrtBc2]);
      const amsgrad = h[H.amsgrad] !== 0;
      return (u, sd, so, wi) => {
        const mi = wi + so[0];
        const vi = wi + so[1];
        const m = z(r(b1 * sd[0][mi]) + r(c1 * u));
        const v = z(r(b2 * sd[1][vi]) + r(c2 * r(u * u)));
        sd[0][mi] = m;
        sd[1][vi] = v;
        let vv = v;
        if (amsgrad) {
          const xi = wi + so[2];
          vv = Math.max(sd[2][xi], v);
          sd[2][xi] = vv;
        }
        return r(r(m / bc1) / r(r(r(Math.sqrt(vv)) / sqrtBc2) + eps));
      };
    }
    case 'rmsprop': {
      const a = r(h[H.alpha]);
      const c = r(1 - h[H.alpha]);
      const eps = r(h[H.rmsEps]);
      const centered = h[H.centered] !== 0;
      const mu = r(h[H.rmsMomentum]);
      const momentum = h[H.rmsMomentum] !== 0;
      return (u, sd, so, wi) => {
        const vi = wi + so[0];
        const v = z(r(a * sd[0][vi]) + r(c * r(u * u)));
        sd[0][vi] = v;
        let avg: number;
        let k = 1;
        if (centered) {
          const gi = wi + so[k++];
          const ga = z(r(a * sd[1][gi]) + r(c * u));
          sd[1][gi] = ga;
          avg = r(r(Math.sqrt(r(v - r(ga * ga)))) + eps);
        } else avg = r(r(Math.sqrt(v)) + eps);
        if (!momentum) return r(u / avg);
        const bi = wi + so[k];
        const b = z(r(mu * sd[k][bi]) + r(u / avg));
        sd[k][bi] = b;
        return b;
      };
    }
    case 'adagrad': {
      const eps = r(h[H.adagradEps]);
      const d = r(h[H.lrDecayFactor]);
      return (u, sd, so, wi) => {
        const si = wi + so[0];
        const s = z(sd[0][si] + r(u * u));
        sd[0][si] = s;
        return r(r(d * u) / r(r(Math.sqrt(s)) + eps));
      };
    }
    default:
      return family satisfies never;
  }
}
