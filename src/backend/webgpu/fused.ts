/**
 * The compiled step's fused relu backward on the GPU (backend/fused.ts `reluBackward`): dz =
 * (h > 0 ? g·mask : 0) written once, and the bias gradient Σ_rows dz in the same pass — a
 * workgroup owns 32 columns, its 8 lanes stride over the rows with compensated sums, then add up in
 * workgroup memory. dz has the composite's bits (one float32 product, a select); the column sums
 * are float32 with compensation (the composite: float64, rounded once). (`linearAct` is the GEMM's
 * epilogue: matmul.ts.)
 */
import { KeelError } from '../../util/errors.js';
import { collapse } from '../js/iter.js';
import type { KernelCall } from './context.js';
import { at, call, MATH, type Operand, Params, Slots } from './wgsl.js';

const COLS = 32;
const LANES = 8;

/** The 2-D strides of a view of `shape` once its trailing axes are merged (null when they cannot be). */
function as2d(shape: readonly number[], views: readonly Operand[]): [number, number][] | null {
  const rest = collapse(
    shape.slice(1),
    views.map((v) => v.strides.slice(1)),
  );
  if (rest.shape.length > 1) return null;
  return views.map((v, k) => [v.strides[0] ?? 0, rest.shape.length ? rest.strides[k][0] : 0]);
}

/** dz (dense, h's shape) and, when `biasGrad` is given, its column sums (dense [cols]). */
export function reluBackwardKernel(
  g: Operand,
  h: Operand,
  mask: Operand | undefined,
  out: Operand,
  biasGrad: Operand | undefined,
): KernelCall {
  const shape = h.shape;
  const views = mask ? [g, h, mask] : [g, h];
  const st = as2d(shape, views);
  if (!st || shape.length < 1)
    throw new KeelError(`webgpu: reluBackward over shape [${shape.join(', ')}] is not 2-D`);
  const rows = shape[0] ?? 1;
  const cols = shape.slice(1).reduce((a, b) => a * b, 1);
  const slots = new Slots();
  const sg = slots.of(g.place.buffer);
  const sh = slots.of(h.place.buffer);
  const sm = mask ? slots.of(mask.place.buffer) : -1;
  const so = slots.of(out.place.buffer);
  const sb = biasGrad ? slots.of(biasGrad.place.buffer) : -1;
  const P = new Params();
  const pr = P.u(rows);
  const pc = P.u(cols);
  const pv = views.map((v, k) => [P.u(at(v)), P.u(st[k][0]), P.u(st[k][1])]);
  const po = P.u(at(out));
  const pb = biasGrad ? P.u(at(biasGrad)) : -1;
  const key = ['reluBack', mask ? 'mask' : '', biasGrad ? 'bias' : '', sg, sh, sm, so, sb].join('|');
  const ld = (s: number, k: number) =>
    `bitcast<f32>(m${s}[u32(pi(${pv[k][0]}u) + i32(r) * pi(${pv[k][1]}u) + i32(col) * pi(${pv[k][2]}u))])`;
  const body = () => `${MATH}
var<workgroup> part: array<f32, ${COLS * LANES}>;
@compute @workgroup_size(${COLS}, ${LANES})
fn main(@builtin(local_invocation_id) l: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let R = p(${pr}u);
  let C = p(${pc}u);
  let col = wid.x * ${COLS}u + l.x;
  var acc = 0.0;
  var comp = 0.0;
  if (col < C) {
    for (var r = l.y; r < R; r += ${LANES}u) {
      let gv = ${mask ? `${ld(sg, 0)} * ${ld(sm, 2)}` : ld(sg, 0)};
      let dz = select(0.0, gv, ${ld(sh, 1)} > 0.0);
      m${so}[p(${po}u) + r * C + col] = bitcast<u32>(dz);
      let t = acc + dz;
      if (abs(acc) >= abs(dz)) { comp += (acc - t) + dz; } else { comp += (dz - t) + acc; }
      acc = t;
    }
  }
  ${
    biasGrad
      ? `part[l.y * ${COLS}u + l.x] = acc + comp;
  workgroupBarrier();
  if (l.y == 0u && col < C) {
    var s = 0.0;
    for (var k = 0u; k < ${LANES}u; k++) { s = s + part[k * ${COLS}u + l.x]; }
    m${sb}[p(${pb}u) + col] = bitcast<u32>(s);
  }`
      : ''
  }
}`;
  return call(key, slots, P, body, [Math.max(1, Math.ceil(cols / COLS)), 1, 1]);
}
