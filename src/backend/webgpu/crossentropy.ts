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
import {
  at,
  call,
  ENTRY,
  grid,
  LINEAR,
  load,
  MATH,
  type Operand,
  Params,
  REPORT,
  Slots,
  word,
} from './wgsl.js';

const CODE = ERROR_KINDS.indexOf('crossEntropy') * 16;

/** WGSL of one row's pass: m, shift, Σ exp, lse (x at xrow + j·xcs, target word `t`). */
function rowStats(sx: number, dtype: Operand['dtype']): string {
  const x = (j: string) => load(sx, `u32(xrow + i32(${j}) * xcs)`, dtype, 'f32');
  return `var mx = -inf();
  for (var j = 0u; j < C; j++) { let v = ${x('j')}; if (v > mx || is_nan(v)) { mx = v; } }
  let shift = select(0.0, mx, !is_nan(mx) && abs(mx) != inf());
  var s = 0.0;
  for (var j = 0u; j < C; j++) { s = s + u_exp(${x('j')} - shift); }
  let lse = shift + u_log(s);`;
}

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
  const sx = slots.of(x.place.buffer);
  const st = slots.of(target.place.buffer);
  const sl = slots.of(loss.place.buffer);
  const sp = slots.of(probs.place.buffer);
  slots.error(errors);
  const P = new Params();
  const pn = P.u(n);
  const pc = P.u(c);
  const px = P.u(at(x));
  const prs = P.u(x.strides[0]);
  const pcs = P.u(x.strides[1]);
  const pt = P.u(at(target));
  const pts = P.u(target.strides[0] ?? 0);
  const pl = P.u(at(loss));
  const pp = P.u(at(probs));
  const key = ['ce', x.dtype, target.dtype, loss.dtype, sx, st, sl, sp].join('|');
  const body = () => `${MATH}
${REPORT}
${ENTRY(64)}
  ${LINEAR(64)}
  if (i >= p(${pn}u)) { return; }
  let C = p(${pc}u);
  let xrow = pi(${px}u) + i32(i) * pi(${prs}u);
  let xcs = pi(${pcs}u);
  let t = ${load(st, `u32(pi(${pt}u) + i32(i) * pi(${pts}u))`, target.dtype, 'i32')};
  if (t < 0 || u32(t) >= C) { report(${CODE}u, t, C); m${sl}[p(${pl}u) + i] = bitcast<u32>(nan()); return; }
  ${rowStats(sx, x.dtype)}
  let l = lse - ${load(sx, 'u32(xrow + t * xcs)', x.dtype, 'f32')};
  m${sl}[p(${pl}u) + i] = ${word('l', loss.dtype, 'f32')};
  let prow = p(${pp}u) + i * C;
  for (var j = 0u; j < C; j++) {
    m${sp}[prow + j] = bitcast<u32>(u_exp(${load(sx, 'u32(xrow + i32(j) * xcs)', x.dtype, 'f32')} - shift) / s);
  }
}`;
  return call(key, slots, P, body, grid(Math.ceil(n / 64)));
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
  const sp = slots.of(probs.place.buffer);
  const st = slots.of(target.place.buffer);
  const sg = slots.of(g.place.buffer);
  const so = slots.of(out.place.buffer);
  slots.error(errors);
  const P = new Params();
  const pN = P.u(n * c);
  const pc = P.u(c);
  const pp = P.u(at(probs));
  const prs = P.u(probs.strides[0]);
  const pcs = P.u(probs.strides[1]);
  const pt = P.u(at(target));
  const pts = P.u(target.strides[0] ?? 0);
  const pg = P.u(at(g));
  const pgs = P.u(g.strides[0] ?? 0);
  const pf0 = P.f(factor);
  const po = P.u(at(out));
  const key = ['ceg', probs.dtype, target.dtype, g.dtype, out.dtype, sp, st, sg, so].join('|');
  const body = () => `${MATH}
${REPORT}
${ENTRY(256)}
  ${LINEAR(256)}
  if (i >= p(${pN}u)) { return; }
  let C = p(${pc}u);
  let row = i / C;
  let j = i % C;
  let t = ${load(st, `u32(pi(${pt}u) + i32(row) * pi(${pts}u))`, target.dtype, 'i32')};
  if (t < 0 || u32(t) >= C) { report(${CODE}u, t, C); m${so}[p(${po}u) + i] = bitcast<u32>(nan()); return; }
  let scale = pf(${pf0}u) * ${load(sg, `u32(pi(${pg}u) + i32(row) * pi(${pgs}u))`, g.dtype, 'f32')};
  let pv = ${load(sp, `u32(pi(${pp}u) + i32(row) * pi(${prs}u) + i32(j) * pi(${pcs}u))`, probs.dtype, 'f32')};
  let v = scale * (pv - select(0.0, 1.0, u32(t) == j));
  m${so}[p(${po}u) + i] = ${word('v', out.dtype, 'f32')};
}`;
  return call(key, slots, P, body, grid(Math.ceil((n * c) / 256)));
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
  const sx = slots.of(x.place.buffer);
  const st = slots.of(target.place.buffer);
  const sg = slots.of(g.place.buffer);
  const sl = slots.of(loss.place.buffer);
  const sd = slots.of(dx.place.buffer);
  slots.error(errors);
  const P = new Params();
  const pn = P.u(n);
  const pc = P.u(c);
  const px = P.u(at(x));
  const prs = P.u(x.strides[0]);
  const pcs = P.u(x.strides[1]);
  const pt = P.u(at(target));
  const pts = P.u(target.strides[0] ?? 0);
  const pg = P.u(at(g));
  const pgs = P.u(g.strides[0] ?? 0);
  const pl = P.u(at(loss));
  const pd = P.u(at(dx));
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
    let t = ${load(st, `u32(pi(${pt}u) + i32(i) * pi(${pts}u))`, target.dtype, 'i32')};
    let drow = p(${pd}u) + i * C;
    if (t < 0 || u32(t) >= C) {
      report(${CODE}u, t, C);
      for (var j = 0u; j < C; j++) { m${sd}[drow + j] = bitcast<u32>(nan()); }
      acc = nan();
      continue;
    }
    ${rowStats(sx, x.dtype)}
    let l = lse - ${load(sx, 'u32(xrow + t * xcs)', x.dtype, 'f32')};
    let sum = acc + l;
    if (abs(acc) >= abs(l)) { comp += (acc - sum) + l; } else { comp += (l - sum) + acc; }
    acc = sum;
    let scale = pf(${pfac}u) * ${load(sg, `u32(pi(${pg}u) + i32(i) * pi(${pgs}u))`, g.dtype, 'f32')};
    for (var j = 0u; j < C; j++) {
      let pv = u_exp(${load(sx, 'u32(xrow + i32(j) * xcs)', x.dtype, 'f32')} - shift) / s;
      let v = scale * (pv - select(0.0, 1.0, u32(t) == j));
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
