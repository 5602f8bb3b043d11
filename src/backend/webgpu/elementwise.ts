/**
 * Element-wise kernels of the webgpu backend, all one generated "map" kernel: one invocation per
 * element of an index space, each operand (inputs broadcast through stride 0, the output possibly
 * strided — copyInto, axpy) at its own strides after the dimensions every operand walks
 * contiguously are merged. The op is a WGSL expression over the loaded values (v0, v1, v2) in the
 * kernel's compute type (f32, or i32 for integer and bool operands); the pipeline is specialized
 * on the op, the dtypes, the rank and which binding each operand is in — never on the shape.
 *
 * Semantics are the js kernels' (elementwise.ts, axpy.ts): NaN and ±0 as there, comparisons
 * writing 0/1, a copy into bool testing ≠ 0, float → int32 truncating modulo 2³². Arithmetic is
 * float32 (float64 storages included: they hold f32 on the GPU), so + − × ÷ and sqrt give the js
 * bits where the GPU rounds them correctly, the transcendental functions are within a few ulp,
 * and axpy rounds α·x and the sum separately (js: once).
 */
import { KeelError } from '../../util/errors.js';
import { collapse } from '../js/iter.js';
import type { BinaryOp, UnaryOp } from '../types.js';
import type { KernelCall } from './context.js';
import {
  at,
  type Compute,
  call,
  computeOf,
  ENTRY,
  grid,
  isFloat,
  LINEAR,
  load,
  MATH,
  type Operand,
  Params,
  Slots,
  word,
} from './wgsl.js';

const WG = 256;

/** A map over `shape`: the output `out` (any strides) and the inputs, each at its strides. */
export interface MapSpec {
  /** Names the op in the pipeline key. */
  readonly name: string;
  readonly shape: readonly number[];
  readonly out: Operand;
  readonly inputs: readonly Operand[];
  readonly compute: Compute;
  /** WGSL of the value stored, over v0, v1, … in the compute type. */
  readonly expr: string;
  /** Extra WGSL the expression calls. */
  readonly extra?: string;
  /** Loads v0, v1, … as these compute types instead (a where's condition). */
  readonly loads?: readonly (Compute | 'cond')[];
  /** Float scalars the expression reads as s0, s1, … (parameters, not part of the key). */
  readonly scalars?: readonly number[];
}

/** The one dispatch of a map (see the file's header). */
export function mapKernel(s: MapSpec): KernelCall {
  const ops = [s.out, ...s.inputs];
  const c = collapse(
    s.shape,
    ops.map((o) => o.strides),
  );
  const r = c.shape.length;
  const n = c.shape.reduce((a, b) => a * b, 1);
  const slots = new Slots();
  const slot = ops.map((o) => slots.of(o.place.buffer));
  const params = new Params();
  const what = `${s.name} over ${r} dimensions`;
  const pn = params.u(n, what);
  const dims = c.shape.map((d) => params.u(d, what));
  const base = ops.map((o) => params.u(at(o), what));
  const strides = ops.map((_, k) => c.strides[k].map((st) => params.u(st, what)));
  const scalars = (s.scalars ?? []).map((v) => params.f(v, what));
  const loads = s.inputs.map((o, k) => {
    const as = s.loads?.[k] ?? s.compute;
    if (as === 'cond') {
      const v = load(slot[k + 1], `u32(o${k + 1})`, o.dtype, computeOf(o));
      return `let v${k} = ${isFloat(o.dtype) ? `nonzero(${v}) && !is_nan(${v})` : `${v} != 0`};`;
    }
    return `let v${k} = ${load(slot[k + 1], `u32(o${k + 1})`, o.dtype, as)};`;
  });
  const key = [
    'map',
    s.name,
    s.compute,
    r,
    ops.map((o, k) => `${o.dtype}@${slot[k]}`).join(','),
    (s.loads ?? []).join(','),
    scalars.length,
  ].join('|');
  const body = () => {
    const walk: string[] = [];
    for (let d = r - 1; d >= 0; d--) {
      walk.push(
        d > 0 ? `  { let q = i32(r % p(${dims[d]}u)); r = r / p(${dims[d]}u);` : '  { let q = i32(r);',
      );
      ops.forEach((_, k) => {
        walk.push(`    o${k} += q * pi(${strides[k][d]}u);`);
      });
      walk.push('  }');
    }
    return `${MATH}
${s.extra ?? ''}
${ENTRY(WG)}
  ${LINEAR(WG)}
  if (i >= p(${pn}u)) { return; }
  var r = i;
${scalars.map((q, k) => `  let s${k} = pf(${q}u);`).join('\n')}
${ops.map((_, k) => `  var o${k} = pi(${base[k]}u);`).join('\n')}
${walk.join('\n')}
  ${loads.join('\n  ')}
  m${slot[0]}[u32(o0)] = ${word(`(${s.expr})`, s.out.dtype, s.compute)};
}`;
  };
  return call(key, slots, params, body, grid(Math.ceil(n / WG)));
}

const F_UNARY: { [K in UnaryOp]: string } = {
  copy: 'v0',
  neg: '-v0',
  exp: 'u_exp(v0)',
  log: 'u_log(v0)',
  sqrt: 'u_sqrt(v0)',
  abs: 'bitcast<f32>(bitcast<u32>(v0) & 0x7fffffffu)',
  sign: 'u_sign(v0)',
  relu: 'u_relu(v0)',
  sigmoid: 'u_sigmoid(v0)',
  tanh: 'u_tanh(v0)',
  erf: 'u_erf(v0)',
};

const I_UNARY: Partial<Record<UnaryOp, string>> = {
  copy: 'v0',
  neg: '-v0',
  abs: 'abs(v0)',
  sign: 'sign(v0)',
  relu: 'max(v0, 0)',
};

const F_BINARY: { [K in BinaryOp]: string } = {
  reluGrad: 'select(0.0, v0, v1 > 0.0)',
  add: 'v0 + v1',
  sub: 'v0 - v1',
  mul: 'v0 * v1',
  div: 'v0 / v1',
  pow: 'b_pow(v0, v1)',
  maximum: 'fmax(v0, v1)',
  minimum: 'fmin(v0, v1)',
  eq: 'select(0.0, 1.0, !is_nan(v0) && !is_nan(v1) && v0 == v1)',
  ne: 'select(1.0, 0.0, !is_nan(v0) && !is_nan(v1) && v0 == v1)',
  lt: 'select(0.0, 1.0, !is_nan(v0) && !is_nan(v1) && v0 < v1)',
  le: 'select(0.0, 1.0, !is_nan(v0) && !is_nan(v1) && v0 <= v1)',
  gt: 'select(0.0, 1.0, !is_nan(v0) && !is_nan(v1) && v0 > v1)',
  ge: 'select(0.0, 1.0, !is_nan(v0) && !is_nan(v1) && v0 >= v1)',
};

const I_BINARY: { [K in BinaryOp]: string } = {
  reluGrad: 'select(0, v0, v1 > 0)',
  add: 'v0 + v1',
  sub: 'v0 - v1',
  mul: 'v0 * v1',
  // JS: the float quotient truncated to int32 (a zero divisor gives ±Infinity or NaN, then 0).
  div: 'select(v0 / select(v1, 1, v1 == 0), 0, v1 == 0)',
  pow: 'to_i32(b_pow(f32(v0), f32(v1)))',
  maximum: 'max(v0, v1)',
  minimum: 'min(v0, v1)',
  eq: 'select(0, 1, v0 == v1)',
  ne: 'select(0, 1, v0 != v1)',
  lt: 'select(0, 1, v0 < v1)',
  le: 'select(0, 1, v0 <= v1)',
  gt: 'select(0, 1, v0 > v1)',
  ge: 'select(0, 1, v0 >= v1)',
};

/** A contiguous output of `shape`. */
export function dense(out: Omit<Operand, 'shape' | 'strides' | 'offset'>, shape: readonly number[]): Operand {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d] = s;
    s *= shape[d];
  }
  return { ...out, shape, strides, offset: 0 };
}

/** unary(op, x) into `out` (x's shape). */
export function unaryKernel(op: UnaryOp, x: Operand, out: Operand): KernelCall {
  const ints = computeOf(x, out) === 'i32' && I_UNARY[op] !== undefined;
  return mapKernel({
    name: `unary ${op}`,
    shape: x.shape,
    out,
    inputs: [x],
    compute: ints ? 'i32' : 'f32',
    expr: ints ? (I_UNARY[op] as string) : F_UNARY[op],
  });
}

/** binary(op, a, b) over out's shape into `out`. */
export function binaryKernel(op: BinaryOp, a: Operand, b: Operand, out: Operand): KernelCall {
  const c = computeOf(a, b, out);
  const expr = c === 'f32' ? F_BINARY[op] : I_BINARY[op];
  return mapKernel({ name: `binary ${op}`, shape: out.shape, out, inputs: [a, b], compute: c, expr });
}

/** where(cond, a, b) over out's shape into `out` (a and b in their common compute type). */
export function whereKernel(cond: Operand, a: Operand, b: Operand, out: Operand): KernelCall {
  const c = computeOf(a, b, out);
  const expr = 'select(v2, v1, v0)';
  return mapKernel({
    name: 'where',
    shape: out.shape,
    out,
    inputs: [cond, a, b],
    compute: c,
    expr,
    loads: ['cond', c, c],
  });
}

/** dst ← src (broadcast to dst's shape), converting dtypes as a typed-array store does. */
export function copyKernel(dst: Operand, src: Operand): KernelCall {
  return mapKernel({
    name: 'copy',
    shape: dst.shape,
    out: dst,
    inputs: [src],
    compute: computeOf(src, dst),
    expr: 'v0',
  });
}

const AXPY = /* wgsl */ `
fn split(a: f32) -> vec2<f32> { let t = a * 4097.0; let h = t - (t - a); return vec2<f32>(h, a - h); }
fn axpy1(y: f32, hi: f32, lo: f32, x: f32) -> f32 {
  let p = hi * x;
  let a = split(hi);
  let b = split(x);
  let e = ((a.x * b.x - p) + a.x * b.y + a.y * b.x) + a.y * b.y;
  let s = y + p;
  let v = s - y;
  let err = (y - (s - v)) + (p - v);
  return s + (err + (e + lo * x));
}
`;

/** y ← y + α·x in place (x broadcast to y's shape). */
export function axpyKernel(y: Operand, alpha: number, x: Operand): KernelCall {
  if (!isFloat(y.dtype)) throw new KeelError(`webgpu: axpy updates float tensors, got ${y.dtype}`);
  return mapKernel({
    name: 'axpy',
    shape: y.shape,
    out: y,
    inputs: [y, x],
    compute: 'f32',
    // α as a float32 pair (α = hi + lo) and the sum with the product's rounding error (Dekker's
    // two-product, Knuth's two-sum): y + α·x rounded about once, as the reference's float64 does.
    expr: 'axpy1(v0, s0, s1, v1)',
    scalars: [alpha, alpha - Math.fround(alpha)],
    extra: AXPY,
  });
}
