/**
 * Softmax cross-entropy on the GPU (js/crossentropy.ts is the reference, in float64; here float32):
 * per row the maximum m (NaN sticks; shift 0 when m is not finite), Σ exp(x − m), lse = m + ln Σ,
 * loss = lse − x[t], softmax = exp(x − m)/Σ; the gradient factor·g·(softmax − onehot(t)). A target
 * outside 0..C−1 is reported through the error buffer and thrown at the next read. The fused
 * `crossEntropyStep` (backend/fused.ts) does forward and backward in one workgroup and reduces
 * the rows' losses there (compensated sums, then a tree).
 */
import type { KernelCall } from './context.js';
import { ERROR_KINDS } from './context.js';
import type { GpuBuffer } from './gpu.js';
import { cover, lanes, window } from './kernel.js';
import { at, type Compute, call, load, MATH, type Operand, Params, REPORT, Slots, word } from './wgsl.js';

const CODE = ERROR_KINDS.indexOf('crossEntropy') * 16;

/** WGSL loading row `row`'s element of a 1-D operand whose window is at params `w` (offset, stride). */
function rowLoad(s: number, w: readonly number[], row: string, dtype: Operand['dtype'], c: Compute): string {
  return load(s, `u32(pi(${w[0]}u) + i32(${row}) * pi(${w[1]}u))`, dtype, c);
}

/** WGSL taking row `row`'s target `t` and, when it is outside 0..C−1, reporting it and running `bad`. */
function targetOf(
  st: number,
  w: readonly number[],
  dtype: Operand['dtype'],
  row: string,
  bad: string,
): string {
  return `let t = ${rowLoad(st, w, row, dtype, 'i32')};
  if (t < 0 || u32(t) >= C) { report(${CODE}u, t, C); ${bad} }`;
}

/**
 * WGSL of one row's pass: m, shift, Σ exp, lse and the loss l = lse − x[t] (x at xrow + j·xcs,
 * target `t`).
 */
function rowLoss(sx: number, dtype: Operand['dtype']): string {
  const x = (j: string) => load(sx, `u32(xrow + i32(${j}) * xcs)`, dtype, 'f32');
  return `var mx = -inf();
  for (var j = 0u; j < C; j++) { let v = ${x('j')}; if (v > mx || is_nan(v)) { mx = v; } }
  let shift = select(0.0, mx, !is_nan(mx) && abs(mx) != inf());
  var s = 0.0;
  for (var j = 0u; j < C; j++) { s = s + u_exp(${x('j')} - shift); }
  let lse = shift + u_log(s);
  let l = lse - ${x('t')};`;
}

/** WGSL of the gradient `v` of element j from its softmax `pv` and the row's `scale` and target. */
const GRAD = 'let v = scale * (pv - select(0.0, 1.0, u32(t) == j));';

/** Each row's loss into `loss` (dense [N]) and its softmax into `probs` (dense [N, C]). */
export function crossEntropyKernel(
  x: Operand,
  target: Operand,
  loss: Operand,
  probs: Operand,
  errors: GpuBuffer,
): KernelCall {
  const [n, c] = x.shape;
  const slots = new Slots();
  const [sx, st, sl, sp] = slots.operands([x, target, loss, probs]);
  slots.error(errors);
  const P = new Params();
  const [pn, pc] = P.us([n, c]);
  const [px, prs, pcs] = window(P, x, 2);
  const tw = window(P, target, 1);
  const [pl, pp] = P.us([at(loss), at(probs)]);
  const key = ['ce', x.dtype, target.dtype, loss.dtype, sx, st, sl, sp].join('|');
  const body = () => `${lanes(64, pn, MATH, REPORT)}
  let C = p(${pc}u);
  let xrow = pi(${px}u) + i32(i) * pi(${prs}u);
  let xcs = pi(${pcs}u);
  ${targetOf(st, tw, target.dtype, 'i', `m${sl}[p(${pl}u) + i] = bitcast<u32>(nan()); return;`)}
  ${rowLoss(sx, x.dtype)}
  m${sl}[p(${pl}u) + i] = ${word('l', loss.dtype, 'f32')};
  let prow = p(${pp}u) + i * C;
  for (var j = 0u; j < C; j++) {
    m${sp}[prow + j] = bitcast<u32>(u_exp(${load(sx, 'u32(xrow + i32(j) * xcs)', x.dtype, 'f32')} - shift) / s);
  }
}`;
  return call(key, slots, P, body, cover(n, 64));
}

/** out[i, j] = factor·g[i]·(probs[i, j] − [j = t[i]]) into the dense `out` [N, C]. */
export function crossEntropyGradKernel(
  probs: Operand,
  target: Operand,
  g: Operand,
  factor: number,
  out: Operand,
  errors: GpuBuffer,
): KernelCall {
  const [n, c] = probs.shape;
  const slots = new Slots();
  const [sp, st, sg, so] = slots.operands([probs, target, g, out]);
  slots.error(errors);
  const P = new Params();
  const [pN, pc] = P.us([n * c, c]);
  const [pp, prs, pcs] = window(P, probs, 2);
  const tw = window(P, target, 1);
  const gw = window(P, g, 1);
  const pf0 = P.f(factor);
  const po = P.u(at(out));
  const key = ['ceg', probs.dtype, target.dtype, g.dtype, out.dtype, sp, st, sg, so].join('|');
  const body = () => `${lanes(256, pN, MATH, REPORT)}
  let C = p(${pc}u);
  let row = i / C;
  let j = i % C;
  ${targetOf(st, tw, target.dtype, 'row', `m${so}[p(${po}u) + i] = bitcast<u32>(nan()); return;`)}
  let scale = pf(${pf0}u) * ${rowLoad(sg, gw, 'row', g.dtype, 'f32')};
  let pv = ${load(sp, `u32(pi(${pp}u) + i32(row) * pi(${prs}u) + i32(j) * pi(${pcs}u))`, probs.dtype, 'f32')};
  ${GRAD}
  m${so}[p(${po}u) + i] = ${word('v', out.dtype, 'f32')};
}`;
  return call(key, slots, P, body, cover(n * c, 256));
}

const STEP_WG = 256;

/**
 * The fused forward + backward (backend/fused.ts `crossEntropyStep`): the reduced loss (0-d) into
 * `loss` and dx = factor·g·(softmax − onehot) into the dense `dx`, in one workgroup.
 */
export function crossEntropyStepKernel(
  x: Operand,
  target: Operand,
  g: Operand,
  reduction: 'mean' | 'sum',
  loss: Operand,
  dx: Operand,
  errors: GpuBuffer,
): KernelCall {
  const [n, c] = x.shape;
  const slots = new Slots();
  const [sx, st, sg, sl, sd] = slots.operands([x, target, g, loss, dx]);
  slots.error(errors);
  const P = new Params();
  const [pn, pc] = P.us([n, c]);
  const [px, prs, pcs] = window(P, x, 2);
  const tw = window(P, target, 1);
  const gw = window(P, g, 1);
  const [pl, pd] = P.us([at(loss), at(dx)]);
  const count = reduction === 'mean' ? Math.max(n, 1) : 1;
  const pcount = P.f(count);
  const pfac = P.f(1 / count);
  const key = ['ces', x.dtype, target.dtype, g.dtype, loss.dtype, dx.dtype, sx, st, sg, sl, sd].join('|');
  const body = () => `${MATH}
${REPORT}
var<workgroup> part: array<f32, ${STEP_WG}>;
@compute @workgroup_size(${STEP_WG})
fn main(@builtin(local_invocation_index) lid: u32) {
  let N = p(${pn}u);
  let C = p(${pc}u);
  let xcs = pi(${pcs}u);
  var acc = 0.0;
  var comp = 0.0;
  for (var i = lid; i < N; i += ${STEP_WG}u) {
    let xrow = pi(${px}u) + i32(i) * pi(${prs}u);
    let drow = p(${pd}u) + i * C;
    ${targetOf(
      st,
      tw,
      target.dtype,
      'i',
      `for (var j = 0u; j < C; j++) { m${sd}[drow + j] = bitcast<u32>(nan()); } acc = nan(); continue;`,
    )}
    ${rowLoss(sx, x.dtype)}
    let sum = acc + l;
    if (abs(acc) >= abs(l)) { comp += (acc - sum) + l; } else { comp += (l - sum) + acc; }
    acc = sum;
    let scale = pf(${pfac}u) * ${rowLoad(sg, gw, 'i', g.dtype, 'f32')};
    for (var j = 0u; j < C; j++) {
      let pv = u_exp(${load(sx, 'u32(xrow + i32(j) * xcs)', x.dtype, 'f32')} - shift) / s;
      ${GRAD}
      m${sd}[drow + j] = ${word('v', dx.dtype, 'f32')};
    }
  }
  part[lid] = acc + comp;
  workgroupBarrier();
  for (var k = ${STEP_WG / 2}u; k > 0u; k = k >> 1u) {
    if (lid < k) { part[lid] = part[lid] + part[lid + k]; }
    workgroupBarrier();
  }
  if (lid == 0u) { m${sl}[p(${pl}u)] = ${word(`part[0] / pf(${pcount}u)`, loss.dtype, 'f32')}; }
}`;
  return call(key, slots, P, body, [1, 1, 1]);
}
