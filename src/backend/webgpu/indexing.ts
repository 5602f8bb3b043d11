/**
 * Index kernels of the webgpu backend: gather / indexSelect (one invocation per output element) and
 * scatterAdd / indexAdd. WGSL has no float atomics, so the adds are written the other way round:
 * one invocation per output element walks the index along the axis and sums, in index order, the
 * source elements that land on it — deterministic, and the same float32 additions in the same
 * order as the js kernels (bit-exact). An index out of range is written to the error buffer (the
 * output element becomes 0) and thrown, worded as the js kernels word it, at the next read.
 */
import type { KernelCall } from './context.js';
import { ERROR_KINDS } from './context.js';
import type { GpuBuffer } from './gpu.js';
import {
  at,
  type Compute,
  call,
  coords,
  ENTRY,
  grid,
  isFloat,
  LINEAR,
  load,
  type Operand,
  Params,
  REPORT,
  Slots,
  word,
} from './wgsl.js';

const WG = 64;

const code = (kind: (typeof ERROR_KINDS)[number], axis: number) =>
  ERROR_KINDS.indexOf(kind) * 16 + Math.min(axis, 15);

/** Σ over d ≠ axis of c_d·stride_d, as WGSL (strides at params `strides`). */
function offsetExpr(base: number, strides: readonly number[], axis: number): string {
  const terms = strides.map((s, d) => (d === axis ? '' : ` + i32(c${d}) * pi(${s}u)`)).join('');
  return `pi(${base}u)${terms}`;
}

/** gather (index of the output's shape) or indexSelect (a 1-D index) of x along `axis` into dense `out`. */
export function pickKernel(
  op: 'gather' | 'indexSelect',
  x: Operand,
  axis: number,
  index: Operand,
  out: Operand,
  errors: GpuBuffer,
): KernelCall {
  const slots = new Slots();
  const sx = slots.of(x.place.buffer);
  const si = slots.of(index.place.buffer);
  const so = slots.of(out.place.buffer);
  slots.error(errors);
  const P = new Params();
  const n = out.shape.reduce((a, b) => a * b, 1);
  const pn = P.u(n, op);
  const dims = out.shape.map((d) => P.u(d, op));
  const px = P.u(at(x), op);
  const xs = x.strides.map((s) => P.u(s, op));
  const pi0 = P.u(at(index), op);
  const is = op === 'gather' ? index.strides.map((s) => P.u(s, op)) : [P.u(index.strides[0] ?? 0, op)];
  const po = P.u(at(out), op);
  const size = x.shape[axis];
  const psize = P.u(size, op);
  const c: Compute = isFloat(out.dtype) ? 'f32' : 'i32';
  const key = ['pick', op, axis, out.shape.length, x.dtype, index.dtype, out.dtype, sx, si, so].join('|');
  const body = () => {
    const idxAt =
      op === 'gather'
        ? `pi(${pi0}u)${is.map((s, d) => ` + i32(c${d}) * pi(${s}u)`).join('')}`
        : `pi(${pi0}u) + i32(c${axis}) * pi(${is[0]}u)`;
    return `${REPORT}
${ENTRY(WG)}
  ${LINEAR(WG)}
  if (i >= p(${pn}u)) { return; }
  ${coords(dims, 'i')}
  let j = ${load(si, `u32(${idxAt})`, index.dtype, 'i32')};
  let size = p(${psize}u);
  var w = 0u;
  if (j < 0 || u32(j) >= size) {
    report(${code(op, axis)}u, j, size);
  } else {
    let v = ${load(sx, `u32(${offsetExpr(px, xs, axis)} + j * pi(${xs[axis]}u))`, x.dtype, c)};
    w = ${word('v', out.dtype, c)};
  }
  m${so}[p(${po}u) + i] = w;
}`;
  };
  return call(key, slots, P, body, grid(Math.ceil(n / WG)));
}

/**
 * scatterAdd (index of src's shape, its non-axis extent at most the output's) or indexAdd (a 1-D
 * index) of src along `axis` into the dense `out` (zeros plus the adds).
 */
export function addKernel(
  op: 'scatterAdd' | 'indexAdd',
  axis: number,
  index: Operand,
  src: Operand,
  out: Operand,
  errors: GpuBuffer,
): KernelCall {
  const slots = new Slots();
  const si = slots.of(index.place.buffer);
  const ss = slots.of(src.place.buffer);
  const so = slots.of(out.place.buffer);
  slots.error(errors);
  const P = new Params();
  const n = out.shape.reduce((a, b) => a * b, 1);
  const pn = P.u(n, op);
  const dims = out.shape.map((d) => P.u(d, op));
  const pi0 = P.u(at(index), op);
  const scatter = op === 'scatterAdd';
  const is = scatter ? index.strides.map((s) => P.u(s, op)) : [P.u(index.strides[0] ?? 0, op)];
  const ishape = scatter ? index.shape.map((d) => P.u(d, op)) : [];
  const ps = P.u(at(src), op);
  const ss2 = src.strides.map((s) => P.u(s, op));
  const po = P.u(at(out), op);
  const plen = P.u(scatter ? index.shape[axis] : (index.shape[0] ?? 1), op);
  const size = out.shape[axis];
  const psize = P.u(size, op);
  const c: Compute = isFloat(out.dtype) ? 'f32' : 'i32';
  const key = ['add', op, axis, out.shape.length, index.dtype, src.dtype, out.dtype, si, ss, so].join('|');
  const body = () => {
    // The index element of step j: along the axis for scatterAdd, the j-th entry for indexAdd.
    const idxAt = scatter
      ? `pi(${pi0}u)${is.map((s, d) => (d === axis ? ` + i32(j) * pi(${s}u)` : ` + i32(c${d}) * pi(${s}u)`)).join('')}`
      : `pi(${pi0}u) + i32(j) * pi(${is[0]}u)`;
    const inside = scatter
      ? ishape
          .map((s, d) => (d === axis ? '' : `c${d} < p(${s}u)`))
          .filter((t) => t)
          .join(' && ') || 'true'
      : 'true';
    return `${REPORT}
${ENTRY(WG)}
  ${LINEAR(WG)}
  if (i >= p(${pn}u)) { return; }
  ${coords(dims, 'i')}
  var acc: ${c} = ${c === 'f32' ? '0.0' : '0'};
  let size = p(${psize}u);
  if (${inside}) {
    let srcBase = ${offsetExpr(ps, ss2, axis)};
    for (var j = 0u; j < p(${plen}u); j++) {
      let k = ${load(si, `u32(${idxAt})`, index.dtype, 'i32')};
      if (k < 0 || u32(k) >= size) {
        report(${code(op, axis)}u, k, size);
      } else if (u32(k) == c${axis}) {
        acc = acc + ${load(ss, `u32(srcBase + i32(j) * pi(${ss2[axis]}u))`, src.dtype, c)};
      }
    }
  }
  m${so}[p(${po}u) + i] = ${word('acc', out.dtype, c)};
}`;
  };
  return call(key, slots, P, body, grid(Math.ceil(n / WG)));
}
