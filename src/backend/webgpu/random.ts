/**
 * Random kernels of the webgpu backend over the counter-based Philox stream (util/random.ts is the
 * spec): dropout — the same 16-bit halves of the words and threshold as every backend, so the masks are
 * bit-exact — and uniform or normal draws. The draws are float32: u = (w + ½)/2³² rounded once,
 * ln u from a series near 1 (where the float32 u is too coarse for log), Box–Muller's cos and sin
 * from polynomials after reducing 2π·u by quarter turns (exact in float32), so they follow the
 * float64 reference within a few float32 ulp of the result's scale. The key (k0, k1) is drawn from
 * the generator when the kernel is recorded eagerly, at every run in a plan.
 */

import { dropThreshold, type RandomKind } from '../../util/random.js';
import { collapse } from '../js/iter.js';
import type { KernelCall } from './context.js';
import { cover, lanes, stridedOffset } from './kernel.js';
import { at, call, ENTRY, LINEAR, load, MATH, type Operand, Params, PHILOX, Slots } from './wgsl.js';

const WG = 256;

/** The generator's next two words, as a refresh writes them into params[k0], params[k1]. */
function keyed(key: () => [number, number], k0: number, k1: number) {
  return (params: Uint32Array) => {
    const [a, b] = key();
    params[k0] = a;
    params[k1] = b;
  };
}

/** Inverted dropout of x (any strides): out = x·mask and mask (dense, x's shape). */
export function dropoutKernel(
  x: Operand,
  p: number,
  scale: number,
  out: Operand,
  mask: Operand,
  key: () => [number, number],
): KernelCall {
  const c = collapse(x.shape, [x.strides]);
  const n = x.shape.reduce((a, b) => a * b, 1);
  const slots = new Slots();
  const [sx, so, sm] = slots.operands([x, out, mask]);
  const P = new Params();
  const pn = P.u(n, 'dropout');
  const [px, po, pm] = [x, out, mask].map((o) => P.u(at(o), 'dropout'));
  const [t, every] = dropThreshold(p);
  const pt = P.u(t);
  const pall = P.u(every);
  const pscale = P.f(scale);
  const pk0 = P.slot();
  const pk1 = P.slot();
  const dims = P.us(c.shape, 'dropout');
  const strides = P.us(c.strides[0], 'dropout');
  const key0 = ['dropout', dims.length, sx, so, sm].join('|');
  const body = () => `${lanes(WG, pn, PHILOX, MATH)}
  ${stridedOffset('xo', 'i', px, dims, strides)}
  let mv = select(pf(${pscale}u), 0.0, dropped(i, p(${pk0}u), p(${pk1}u), p(${pt}u), p(${pall}u)));
  m${sm}[p(${pm}u) + i] = bitcast<u32>(mv);
  m${so}[p(${po}u) + i] = bitcast<u32>(${load(sx, 'u32(xo)', x.dtype, 'f32')} * mv);
}`;
  return call(key0, slots, P, body, cover(n, WG), keyed(key, pk0, pk1));
}

/** Philox units, ln u and Box–Muller's turn (see the file's header). */
const UNITS = /* wgsl */ `
// (w + 1/2) / 2^32, rounded once.
fn unit(w: u32) -> f32 { return f32(w >> 8u) * 5.9604645e-8 + (f32(w & 255u) + 0.5) * 2.3283064e-10; }
// ln((w + 1/2) / 2^32): with d = 1 - u exact, ln(1 - d) = -2 atanh(d / (2 - d)) for u >= 1/2.
fn ln_unit(w: u32) -> f32 {
  if (w < 0x80000000u) { return log(unit(w)); }
  let dm = 0xffffffffu - w;
  let d = f32(dm >> 8u) * 5.9604645e-8 + (f32(dm & 255u) + 0.5) * 2.3283064e-10;
  let s = d / (2.0 - d);
  let s2 = s * s;
  var t = 1.0 / 19.0;
  for (var k = 8; k >= 0; k--) { t = 1.0 / f32(2 * k + 1) + s2 * t; }
  return -2.0 * s * t;
}
// (cos, sin) of 2*pi*u for u in (0, 1): quarter turns exactly, then polynomials on [-pi/4, pi/4].
fn turn(u: f32) -> vec2<f32> {
  let t = u * 4.0;
  let q = floor(t + 0.5);
  let x = (t - q) * 1.5707964;
  let x2 = x * x;
  let s = x * (1.0 + x2 * (-0.16666667 + x2 * (0.008333334 + x2 * (-0.0001984127 + x2 * 2.7557319e-6))));
  let c = 1.0 + x2 * (-0.5 + x2 * (0.041666668 + x2 * (-0.0013888889 + x2 * (2.4801587e-5 - x2 * 2.7557319e-7))));
  switch (u32(q) & 3u) {
    case 0u: { return vec2<f32>(c, s); }
    case 1u: { return vec2<f32>(-s, c); }
    case 2u: { return vec2<f32>(-c, -s); }
    default: { return vec2<f32>(s, -c); }
  }
}
`;

/** Uniform [a, b) or normal (mean a, sd b) draws into the dense `out`. */
export function randomKernel(
  kind: RandomKind,
  out: Operand,
  a: number,
  b: number,
  key: () => [number, number],
): KernelCall {
  const n = out.shape.reduce((x, y) => x * y, 1);
  const slots = new Slots();
  const [so] = slots.operands([out]);
  const P = new Params();
  const pn = P.u(n);
  const po = P.u(at(out));
  const pa = P.f(a);
  const pb = P.f(kind === 'uniform' ? b - a : b);
  const pk0 = P.slot();
  const pk1 = P.slot();
  const per = kind === 'uniform' ? 1 : 2;
  const body = () => `${PHILOX}
${MATH}
${UNITS}
${ENTRY(WG)}
  ${LINEAR(WG)}
  let e = i * ${per}u;
  if (e >= p(${pn}u)) { return; }
  let k0 = p(${pk0}u); let k1 = p(${pk1}u);
  let a = pf(${pa}u); let b = pf(${pb}u);
  let o = p(${po}u) + e;
  ${
    kind === 'uniform'
      ? `m${so}[o] = bitcast<u32>(a + b * unit(philox_word(e, k0, k1)));`
      : `let r = sqrt(-2.0 * ln_unit(philox_word(e, k0, k1)));
  let cs = turn(unit(philox_word(e + 1u, k0, k1)));
  m${so}[o] = bitcast<u32>(a + b * (r * cs.x));
  if (e + 1u < p(${pn}u)) { m${so}[o + 1u] = bitcast<u32>(a + b * (r * cs.y)); }`
  }
}`;
  return call(`random|${kind}`, slots, P, body, cover(n / per, WG), keyed(key, pk0, pk1));
}
