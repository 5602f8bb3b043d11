/**
 * The fused optimizer update on the GPU (backend/optimizer.ts is the spec, js/optimizer.ts the
 * reference): one invocation per element of the parameter, its gradient (any view) and its state
 * buffers, float32 rounded after every operation in the reference's order. The step's
 * hyper-parameters are derived from `h` on the host exactly as the reference derives them (each
 * rounded to float32 once) and written into the parameter block at every run, so a compiled plan
 * follows schedulers and bias corrections; the decay mode and the per-step flags (first, nesterov)
 * are read at run time, while the state buffers the family keeps (amsgrad's maximum, a centred
 * average, a momentum buffer) fix the pipeline. Where the GPU rounds ÷ and √ correctly (SwiftShader
 * does) the bits are the reference's; drivers that contract a·b + c into one FMA differ by an ulp.
 */
import { collapse } from '../js/iter.js';
import { DecayMode, H, type OptimizerFamily } from '../optimizer.js';
import type { KernelCall } from './context.js';
import { cover, lanes, stridedOffset } from './kernel.js';
import { at, call, MATH, type Operand, Params, Slots } from './wgsl.js';

const WG = 256;
const r = Math.fround;

/** Slots of the run-time scalars in the parameter block, by name. */
const SCALARS = [
  'lr',
  'negLr',
  'lambda',
  'mode',
  'thr',
  's0',
  's1',
  's2',
  's3',
  's4',
  's5',
  's6',
  's7',
] as const;

/** The scalars of a step (float32 bits, flags as 0/1 floats) from the hyper-parameter vector. */
function scalars(family: OptimizerFamily, h: Float64Array): number[] {
  const lr = r(h[H.lr]);
  const lambda = r(h[H.decay]);
  const mode = h[H.decayMode];
  const thr = mode === DecayMode.proximal ? r(lr * lambda) : 0;
  const common = [lr, r(-h[H.lr]), lambda, mode, thr];
  switch (family) {
    case 'sgd':
      return [
        ...common,
        r(h[H.momentum]),
        r(1 - h[H.dampening]),
        h[H.first] !== 0 ? 1 : 0,
        h[H.nesterov] !== 0 ? 1 : 0,
      ];
    case 'adam':
      return [
        ...common,
        r(h[H.beta1]),
        r(1 - h[H.beta1]),
        r(h[H.beta2]),
        r(1 - h[H.beta2]),
        r(h[H.eps]),
        r(h[H.bc1]),
        r(h[H.sqrtBc2]),
      ];
    case 'rmsprop':
      return [...common, r(h[H.alpha]), r(1 - h[H.alpha]), r(h[H.rmsEps]), r(h[H.rmsMomentum])];
    case 'adagrad':
      return [...common, r(h[H.adagradEps]), r(h[H.lrDecayFactor])];
    default:
      return family satisfies never;
  }
}

/** The family's transform of u, over state words S0, S1, S2 (WGSL; see backend/optimizer.ts). */
function transform(family: OptimizerFamily, names: readonly string[]): string {
  switch (family) {
    case 'sgd':
      if (names.length === 0) return '';
      return `let nb = ftz(select(s0 * S0 + s1 * u, u, s2 != 0.0));
    S0 = nb;
    u = select(nb, u + s0 * nb, s3 != 0.0);`;
    case 'adam':
      return `let m = ftz(s0 * S0 + s1 * u);
    let v = ftz(s2 * S1 + s3 * (u * u));
    S0 = m;
    S1 = v;
    ${names.length === 3 ? 'let vv = fmax(S2, v);\n    S2 = vv;' : 'let vv = v;'}
    u = (m / s5) / ((u_sqrt(vv) / s6) + s4);`;
    case 'rmsprop': {
      const centered = names.includes('gradAvg');
      const momentum = names.includes('momentumBuffer');
      const b = centered ? 'S2' : 'S1';
      return `let v = ftz(s0 * S0 + s1 * (u * u));
    S0 = v;
    ${
      centered
        ? `let ga = ftz(s0 * S1 + s1 * u);
    S1 = ga;
    let avg = u_sqrt(v - ga * ga) + s2;`
        : 'let avg = u_sqrt(v) + s2;'
    }
    ${momentum ? `let nb = ftz(s3 * ${b} + u / avg);\n    ${b} = nb;\n    u = nb;` : 'u = u / avg;'}`;
    }
    case 'adagrad':
      return `let s = ftz(S0 + u * u);
    S0 = s;
    u = (s1 * u) / (u_sqrt(s) + s0);`;
    default:
      return family satisfies never;
  }
}

/**
 * One optimizer step in place: w and its `state` (contiguous, w's shape), g any view of w's shape;
 * `h` is read at every refresh (`names`: the state buffers, backend/optimizer.ts stateNames).
 */
export function optimizerKernel(
  family: OptimizerFamily,
  w: Operand,
  g: Operand,
  state: readonly Operand[],
  names: readonly string[],
  h: Float64Array,
): KernelCall {
  const n = w.shape.reduce((a, b) => a * b, 1);
  const c = collapse(w.shape, [g.strides]);
  const slots = new Slots();
  const [sw, sg, ...ss] = slots.operands([w, g, ...state]);
  const P = new Params();
  const what = 'optimizerStep';
  const pn = P.u(n, what);
  const [pw, pg, ...ps] = P.us([w, g, ...state].map(at), what);
  const dims = P.us(c.shape, what);
  const gs = P.us(c.strides[0], what);
  const slotsOf = SCALARS.map(() => P.slot(what));
  const key = ['opt', family, names.join(','), dims.length, sw, sg, ss.join(',')].join('|');
  const body = () => {
    const ref = (k: number) => `m${ss[k]}[p(${ps[k]}u) + i]`;
    let t = transform(family, names);
    // S0…S2 are the state words: read as f32, written back as bits.
    for (let k = 0; k < state.length; k++) {
      t = t.replace(new RegExp(`\\bS${k} = ([^;]+);`, 'g'), `${ref(k)} = bitcast<u32>($1);`);
      t = t.replace(new RegExp(`\\bS${k}\\b`, 'g'), `bitcast<f32>(${ref(k)})`);
    }
    const sc = SCALARS.map((name, k) => `let ${name} = pf(${slotsOf[k]}u);`).join('\n  ');
    return `${MATH}
// The state's flush to 0 below the smallest normal float, NaN kept (backend/optimizer.ts).
fn ftz(x: f32) -> f32 { return select(x, 0.0, abs(x) < 1.17549435e-38); }
fn sgn(x: f32) -> f32 { return select(select(0.0, -1.0, x < 0.0), 1.0, x > 0.0); }
${lanes(WG, pn)}
  ${sc}
  ${stridedOffset('go', 'i', pg, dims, gs)}
  let wi = p(${pw}u) + i;
  let wv = bitcast<f32>(m${sw}[wi]);
  var u = bitcast<f32>(m${sg}[u32(go)]);
  let decay = lambda * select(wv, sgn(wv), mode == 2.0 || mode == 4.0);
  if (mode == 1.0 || mode == 2.0) { u = u + decay; }
  {
    ${t}
  }
  if (mode == 3.0 || mode == 4.0) { u = u + decay; }
  var nw = wv + negLr * u;
  if (thr > 0.0) { nw = select(select(0.0, nw + thr, nw < -thr), nw - thr, nw > thr); }
  m${sw}[wi] = bitcast<u32>(nw);
}`;
  };
  const refresh = (params: Uint32Array) => {
    const f = new Float32Array(params.buffer, params.byteOffset, params.length);
    const v = scalars(family, h);
    for (let k = 0; k < SCALARS.length; k++) f[slotsOf[k]] = v[k] ?? 0;
  };
  return call(key, slots, P, body, cover(n, WG), refresh);
}
