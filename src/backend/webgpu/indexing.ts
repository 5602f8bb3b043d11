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
import { cover, lanes, window } from './kernel.js';
import { at, call, computeOf, coords, load, type Operand, Params, REPORT, Slots, word } from './wgsl.js';

const WG = 64;

const code = (kind: (typeof ERROR_KINDS)[number], axis: number) =>
  ERROR_KINDS.indexOf(kind) * 16 + Math.min(axis, 15);

/** Σ over d ≠ axis of c_d·stride_d, as WGSL (strides at params `strides`). */
function offsetExpr(base: number, strides: readonly number[], axis: number): string {
  const terms = strides.map((s, d) => (d === axis ? '' : ` + i32(c${d}) * pi(${s}u)`)).join('');
  return `pi(${base}u)${terms}`;
}

/** The output's element count `n`, and the parameters of it (`pn`) and of its dims. */
function outputSpace(P: Params, out: Operand, op: string): { n: number; pn: number; dims: number[] } {
  const n = out.shape.reduce((a, b) => a * b, 1);
  return { n, pn: P.u(n, op), dims: P.us(out.shape, op) };
}

/** The index's window: every stride for an index of the data's rank (gather, scatterAdd), else one. */
function indexWindow(P: Params, index: Operand, perElement: boolean, op: string): number[] {
  return window(P, index, perElement ? index.strides.length : 1, op);
}

/**
 * gather (index of the output's shape) or indexSelect (a 1-D index) of x along `axis` into dense
 * `out`; with `divisor`, each value divided by it in f32 as it is stored (fused.ts `gatherPixels`).
 */
export function pickKernel(
  op: 'gather' | 'indexSelect',
  x: Operand,
  axis: number,
  index: Operand,
  out: Operand,
  errors: GpuBuffer,
  divisor?: number,
): KernelCall {
  const slots = new Slots();
  const [sx, si, so] = slots.operands([x, index, out]);
  slots.error(errors);
  const P = new Params();
  const { n, pn, dims } = outputSpace(P, out, op);
  const [px, ...xs] = window(P, x, x.strides.length, op);
  const [pi0, ...is] = indexWindow(P, index, op === 'gather', op);
  const po = P.u(at(out), op);
  const size = x.shape[axis];
  const psize = P.u(size, op);
  const c = divisor === undefined ? computeOf(out) : 'f32';
  const pd = divisor === undefined ? -1 : P.f(divisor, op);
  const key = ['pick', op, axis, out.shape.length, x.dtype, index.dtype, out.dtype, sx, si, so, pd >= 0].join(
    '|',
  );
  const body = () => {
    const idxAt =
      op === 'gather'
        ? `pi(${pi0}u)${is.map((s, d) => ` + i32(c${d}) * pi(${s}u)`).join('')}`
        : `pi(${pi0}u) + i32(c${axis}) * pi(${is[0]}u)`;
    return `${lanes(WG, pn, REPORT)}
  ${coords(dims, 'i')}
  let j = ${load(si, `u32(${idxAt})`, index.dtype, 'i32')};
  let size = p(${psize}u);
  var w = 0u;
  if (j < 0 || u32(j) >= size) {
    report(${code(op, axis)}u, j, size);
  } else {
    let v = ${load(sx, `u32(${offsetExpr(px, xs, axis)} + j * pi(${xs[axis]}u))`, x.dtype, c)};
    w = ${word(pd >= 0 ? `v / pf(${pd}u)` : 'v', out.dtype, c)};
  }
  m${so}[p(${po}u) + i] = w;
}`;
  };
  return call(key, slots, P, body, cover(n, WG));
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
  const [si, ss, so] = slots.operands([index, src, out]);
  slots.error(errors);
  const P = new Params();
  const { n, pn, dims } = outputSpace(P, out, op);
  const scatter = op === 'scatterAdd';
  const [pi0, ...is] = indexWindow(P, index, scatter, op);
  const ishape = scatter ? P.us(index.shape, op) : [];
  const [ps, ...ss2] = window(P, src, src.strides.length, op);
  const po = P.u(at(out), op);
  const plen = P.u(scatter ? index.shape[axis] : (index.shape[0] ?? 1), op);
  const size = out.shape[axis];
  const psize = P.u(size, op);
  const c = computeOf(out);
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
    return `${lanes(WG, pn, REPORT)}
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
  return call(key, slots, P, body, cover(n, WG));
}
