/**
 * Reductions of the webgpu backend. `reduce`: one workgroup per output element; its invocations
 * stride over the reduced index space (any strides, the reduced axes merged where they allow),
 * each summing with compensation (Kahan–Babuška, so a long float32 sum keeps nearly the float64
 * sum of the js kernel), then a tree in workgroup memory. max/min propagate NaN as js does. Integer
 * and bool sums accumulate in i32. `argReduce`: one invocation per output scanning its axis in
 * order, exactly as the js kernel (first extreme; NaN counts as the extreme).
 */
import { collapse } from '../js/iter.js';
import type { ReduceOp } from '../types.js';
import type { KernelCall } from './context.js';
import { cover, lanes, stridedOffset } from './kernel.js';
import { at, call, computeOf, ENTRY, grid, load, MATH, type Operand, Params, Slots, word } from './wgsl.js';

/** Σ, max or min of x over `axes` into the dense `out` (x's shape without them). */
export function reduceKernel(op: ReduceOp, x: Operand, axes: readonly number[], out: Operand): KernelCall {
  const keptShape = x.shape.filter((_, d) => !axes.includes(d));
  const keptStrides = x.strides.filter((_, d) => !axes.includes(d));
  const kept = collapse(keptShape, [keptStrides]);
  const red = collapse(
    axes.map((d) => x.shape[d]),
    [axes.map((d) => x.strides[d])],
  );
  const outs = keptShape.reduce((a, b) => a * b, 1);
  const m = red.shape.reduce((a, b) => a * b, 1);
  const wg = outs < 64 && m > 4096 ? 256 : 64;
  const c = computeOf(out);
  const slots = new Slots();
  const sx = slots.of(x.place.buffer);
  const so = slots.of(out.place.buffer);
  const params = new Params();
  const what = `reduce ${op} over ${x.shape.length} dimensions`;
  const pOuts = params.u(outs, what);
  const pM = params.u(m, what);
  const pX = params.u(at(x), what);
  const pO = params.u(at(out), what);
  const kDims = kept.shape.map((d) => params.u(d, what));
  const kStrides = kept.strides[0].map((s) => params.u(s, what));
  const rDims = red.shape.map((d) => params.u(d, what));
  const rStrides = red.strides[0].map((s) => params.u(s, what));
  const zero = c === 'f32' ? '0.0' : '0';
  const init =
    op === 'sum'
      ? zero
      : c === 'f32'
        ? op === 'max'
          ? '-inf()'
          : 'inf()'
        : op === 'max'
          ? '-2147483647 - 1'
          : '2147483647';
  const combine = (a: string, b: string) =>
    op === 'sum' ? `${a} + ${b}` : c === 'f32' ? `f${op}(${a}, ${b})` : `${op}(${a}, ${b})`;
  const unravel = (dims: number[], strides: number[], v: string, into: string) => {
    const lines: string[] = [];
    for (let d = dims.length - 1; d >= 0; d--) {
      if (d > 0)
        lines.push(
          `{ let q = i32(${v} % p(${dims[d]}u)); ${v} = ${v} / p(${dims[d]}u); ${into} += q * pi(${strides[d]}u); }`,
        );
      else lines.push(`${into} += i32(${v}) * pi(${strides[d]}u);`);
    }
    return lines.join('\n    ');
  };
  const key = ['reduce', op, c, x.dtype, out.dtype, kept.shape.length, red.shape.length, sx, so, wg].join(
    '|',
  );
  const body = () => `${MATH}
var<workgroup> part: array<${c}, ${wg}>;
${ENTRY(wg)}
  let o = wid.x + wid.y * nwg.x;
  if (o >= p(${pOuts}u)) { return; }
  var rk = o;
  var base = pi(${pX}u);
  ${unravel(kDims, kStrides, 'rk', 'base')}
  var acc: ${c} = ${init};
  var comp: ${c} = ${zero};
  for (var j = lid; j < p(${pM}u); j += ${wg}u) {
    var rj = j;
    var off = base;
    ${unravel(rDims, rStrides, 'rj', 'off')}
    let v = ${load(sx, 'u32(off)', x.dtype, c)};
    ${
      op === 'sum' && c === 'f32'
        ? `let t = acc + v;
    if (abs(acc) >= abs(v)) { comp += (acc - t) + v; } else { comp += (v - t) + acc; }
    acc = t;`
        : `acc = ${combine('acc', 'v')};`
    }
  }
  part[lid] = ${op === 'sum' && c === 'f32' ? 'acc + comp' : 'acc'};
  workgroupBarrier();
  for (var s = ${wg / 2}u; s > 0u; s = s >> 1u) {
    if (lid < s) { part[lid] = ${combine('part[lid]', 'part[lid + s]')}; }
    workgroupBarrier();
  }
  if (lid == 0u) { m${so}[p(${pO}u) + o] = ${word('part[0]', out.dtype, c)}; }
}`;
  return call(key, slots, params, body, grid(outs));
}

/** argmax/argmin of x along `axis` into the dense int32 `out`. */
export function argReduceKernel(op: 'argmax' | 'argmin', x: Operand, axis: number, out: Operand): KernelCall {
  const others = collapse(
    x.shape.filter((_, d) => d !== axis),
    [x.strides.filter((_, d) => d !== axis)],
  );
  const outs = others.shape.reduce((a, b) => a * b, 1);
  const slots = new Slots();
  const [sx, so] = slots.operands([x, out]);
  const params = new Params();
  const what = `${op} over ${x.shape.length} dimensions`;
  const [pN, pX, pO, pLen, pStride] = params.us([outs, at(x), at(out), x.shape[axis], x.strides[axis]], what);
  const dims = params.us(others.shape, what);
  const strides = params.us(others.strides[0], what);
  const c = computeOf(x);
  const better = op === 'argmax' ? 'v > best' : 'v < best';
  const key = ['arg', op, x.dtype, dims.length, sx, so].join('|');
  const body = () => `${lanes(64, pN, MATH)}
  ${stridedOffset('base', 'i', pX, dims, strides)}
  let len = p(${pLen}u);
  let st = pi(${pStride}u);
  var best = ${load(sx, 'u32(base)', x.dtype, c)};
  var bi = 0u;
  ${
    c === 'f32'
      ? `if (!is_nan(best)) {
    for (var j = 1u; j < len; j++) {
      let v = ${load(sx, 'u32(base + i32(j) * st)', x.dtype, c)};
      if (is_nan(v)) { bi = j; break; }
      if (${better}) { best = v; bi = j; }
    }
  }`
      : `for (var j = 1u; j < len; j++) {
    let v = ${load(sx, 'u32(base + i32(j) * st)', x.dtype, c)};
    if (${better}) { best = v; bi = j; }
  }`
  }
  m${so}[p(${pO}u) + i] = bi;
}`;
  return call(key, slots, params, body, cover(outs, 64));
}
