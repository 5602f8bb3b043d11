/**
 * What every WGSL kernel of the webgpu backend is made of. Buffers are bound whole as
 * `array<u32>` (`m0`, `m1`, …; the same buffer once, whatever number of operands live in it, so an
 * arena's slots never conflict) and each element is one word: loads and stores convert between the
 * dtype's word (f32 bits, i32 bits, a uint8's byte, u32 0/1) and the kernel's compute type. Each
 * kernel reads its shapes, strides and element offsets from a 256-byte uniform parameter block `P`
 * (so one pipeline serves every shape), and an index kernel may report a bad index into the error
 * buffer `E`.
 *
 * Float special values are handled by bit tests, not by comparisons a shader compiler may fold:
 * NaN propagates through max/min/relu/sign as in the js kernels, and ±0 keep their signs.
 */
import type { DType } from '../../util/dtype.js';
import { KeelError } from '../../util/errors.js';
import { type KernelCall, PARAM_WORDS } from './context.js';
import type { GpuBuffer } from './gpu.js';
import type { Place } from './storage.js';

/** A strided window onto a storage, as a kernel builder takes it (strides, offset in elements). */
export interface Operand {
  readonly place: Place;
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
}

/** The element index of an operand's element 0 in its buffer. */
export function at(o: Operand): number {
  return o.place.base + o.offset;
}

/** The compute type of a kernel: f32 for floats, i32 for integers and bools. */
export type Compute = 'f32' | 'i32';

/** Whether a dtype is a float (held as f32 on the GPU). */
export const isFloat = (d: DType): boolean => d === 'float32' || d === 'float64';

/** The compute type of a kernel over these operands: f32 when any of them is a float, else i32. */
export function computeOf(...operands: readonly Pick<Operand, 'dtype'>[]): Compute {
  return operands.some((o) => isFloat(o.dtype)) ? 'f32' : 'i32';
}

/** The binding slots of one kernel's buffers (each buffer once) and the error buffer's slot. */
export class Slots {
  readonly buffers: GpuBuffer[] = [];
  private err = -1;

  /** The slot of a buffer (added when new). */
  of(b: GpuBuffer): number {
    let i = this.buffers.indexOf(b);
    if (i < 0) {
      i = this.buffers.length;
      this.buffers.push(b);
    }
    return i;
  }

  /** The slots of the operands' buffers, in order (operands sharing a buffer share its slot). */
  operands(os: readonly Operand[]): number[] {
    return os.map((o) => this.of(o.place.buffer));
  }

  /** The slot of the error buffer. */
  error(errorBuffer: GpuBuffer): number {
    if (this.err < 0) this.err = this.of(errorBuffer);
    return this.err;
  }

  /** What the declarations depend on (part of every pipeline key). */
  get signature(): string {
    return `${this.buffers.length}${this.err >= 0 ? `e${this.err}` : ''}`;
  }

  /** The binding declarations of the kernel. */
  declarations(): string {
    const lines = this.buffers.map((_, i) =>
      i === this.err
        ? `@group(0) @binding(${i}) var<storage, read_write> E: array<atomic<u32>, 4>;`
        : `@group(0) @binding(${i}) var<storage, read_write> m${i}: array<u32>;`,
    );
    lines.push(
      `@group(0) @binding(${this.buffers.length}) var<uniform> P: array<vec4<u32>, ${PARAM_WORDS / 4}>;`,
    );
    lines.push('fn p(i: u32) -> u32 { return P[i / 4u][i % 4u]; }');
    lines.push('fn pf(i: u32) -> f32 { return bitcast<f32>(p(i)); }');
    lines.push('fn pi(i: u32) -> i32 { return bitcast<i32>(p(i)); }');
    return lines.join('\n');
  }
}

/** A kernel's parameter block being filled (indices are the WGSL's `p(i)`). */
export class Params {
  readonly words = new Uint32Array(PARAM_WORDS);
  private readonly f32 = new Float32Array(this.words.buffer);
  private n = 0;

  private next(what: string): number {
    if (this.n >= PARAM_WORDS)
      throw new KeelError(`webgpu: ${what} needs more than ${PARAM_WORDS} parameters (too many dimensions)`);
    return this.n++;
  }

  /** An unsigned (or signed, two's complement) integer; returns its index. */
  u(v: number, what = 'a kernel'): number {
    const i = this.next(what);
    this.words[i] = v >>> 0;
    return i;
  }

  /** Unsigned integers, each as `u`; returns their indices. */
  us(vs: readonly number[], what = 'a kernel'): number[] {
    return vs.map((v) => this.u(v, what));
  }

  /** A float (rounded to f32); returns its index. */
  f(v: number, what = 'a kernel'): number {
    const i = this.next(what);
    this.f32[i] = v;
    return i;
  }

  /** A word left for `refresh` to fill at each run; returns its index. */
  slot(what = 'a kernel'): number {
    return this.next(what);
  }
}

/** The WGSL expression loading word `idx` of slot `s` as dtype `d` in compute type `c`. */
export function load(s: number, idx: string, d: DType, c: Compute): string {
  const w = `m${s}[${idx}]`;
  if (isFloat(d)) return c === 'f32' ? `bitcast<f32>(${w})` : `i32(bitcast<f32>(${w}))`;
  if (d === 'int32') return c === 'f32' ? `f32(bitcast<i32>(${w}))` : `bitcast<i32>(${w})`;
  return c === 'f32' ? `f32(${w})` : `i32(${w})`;
}

/** The WGSL word of value `v` (compute type `c`) stored as dtype `d`. */
export function word(v: string, d: DType, c: Compute): string {
  if (isFloat(d)) return c === 'f32' ? `bitcast<u32>(${v})` : `bitcast<u32>(f32(${v}))`;
  if (d === 'int32') return c === 'f32' ? `bitcast<u32>(to_i32(${v}))` : `bitcast<u32>(${v})`;
  // uint8: the low byte, as a Uint8Array stores it.
  if (d === 'uint8') return c === 'f32' ? `bitcast<u32>(to_i32(${v})) & 0xffu` : `bitcast<u32>(${v}) & 0xffu`;
  return c === 'f32' ? `select(0u, 1u, nonzero(${v}))` : `select(0u, 1u, ${v} != 0)`;
}

/** Float helpers shared by the element-wise kernels (NaN-exact, see the file's header). */
export const MATH = /* wgsl */ `
fn is_nan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
fn nonzero(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) != 0u; }
// Runtime values: a constant NaN or infinity is refused by WGSL's constant evaluation.
fn nan() -> f32 { var b = 0x7fc00000u; return bitcast<f32>(b); }
fn inf() -> f32 { var b = 0x7f800000u; return bitcast<f32>(b); }
fn fmax(a: f32, b: f32) -> f32 {
  if (is_nan(a)) { return a; }
  if (is_nan(b)) { return b; }
  if (a == b) { return bitcast<f32>(bitcast<u32>(a) & bitcast<u32>(b)); }
  return select(b, a, a > b);
}
fn fmin(a: f32, b: f32) -> f32 {
  if (is_nan(a)) { return a; }
  if (is_nan(b)) { return b; }
  if (a == b) { return bitcast<f32>(bitcast<u32>(a) | bitcast<u32>(b)); }
  return select(b, a, a < b);
}
// JS ToInt32: truncation modulo 2^32, NaN and infinities to 0.
fn to_i32(x: f32) -> i32 {
  if ((bitcast<u32>(x) & 0x7f800000u) == 0x7f800000u) { return 0; }
  let t = trunc(x);
  if (abs(t) < 2147483648.0) { return i32(t); }
  let r = t - floor(t / 4294967296.0) * 4294967296.0;
  return bitcast<i32>(u32(r));
}
fn u_exp(x: f32) -> f32 {
  if (is_nan(x)) { return x; }
  if (x > 88.72284) { return inf(); }
  if (x < -103.97208) { return 0.0; }
  return exp(x);
}
fn u_log(x: f32) -> f32 {
  if (is_nan(x) || x < 0.0) { return nan(); }
  if (x == 0.0) { return -inf(); }
  if (x == inf()) { return x; }
  return log(x);
}
fn u_sqrt(x: f32) -> f32 {
  if (is_nan(x) || x < 0.0) { return nan(); }
  if (x == 0.0 || x == inf()) { return x; }
  return sqrt(x);
}
fn u_sign(x: f32) -> f32 {
  if (x > 0.0) { return 1.0; }
  if (x < 0.0) { return -1.0; }
  return x;
}
fn u_relu(x: f32) -> f32 { return select(0.0, x, x > 0.0 || is_nan(x)); }
fn u_sigmoid(x: f32) -> f32 {
  if (is_nan(x)) { return x; }
  if (x >= 0.0) { return 1.0 / (1.0 + u_exp(-x)); }
  let e = u_exp(x);
  return e / (1.0 + e);
}
fn u_tanh(x: f32) -> f32 {
  if (is_nan(x)) { return x; }
  let a = abs(x);
  if (a > 9.1) { return select(-1.0, 1.0, x > 0.0); }
  if (a < 0.125) { let x2 = x * x; return x + x * x2 * (-0.33333334 + x2 * (0.13333334 - x2 * 0.053968254)); }
  let t = 1.0 - 2.0 / (u_exp(2.0 * a) + 1.0);
  return select(-t, t, x > 0.0);
}
// erf: the Maclaurin series below 2 (f32 terms stay small), a continued fraction for erfc above.
fn u_erf(x: f32) -> f32 {
  if (is_nan(x)) { return x; }
  let a = abs(x);
  if (a >= 4.0) { return select(-1.0, 1.0, x > 0.0); }
  if (a < 2.0) {
    let x2 = x * x;
    var term = x;
    var sum = x;
    for (var n = 1; n < 40; n++) {
      term = term * (-x2 / f32(n));
      let add = term / f32(2 * n + 1);
      sum = sum + add;
      if (abs(add) < 1e-9 * abs(sum)) { break; }
    }
    return 1.1283791 * sum;
  }
  var f = a;
  for (var n = 60; n >= 1; n--) { f = a + (f32(n) * 0.5) / f; }
  let r = 1.0 - exp(-a * a) / (f * 1.7724539);
  return select(-r, r, x > 0.0);
}
fn is_int(x: f32) -> bool { return trunc(x) == x; }
fn is_odd(x: f32) -> bool { return is_int(x) && abs(x) < 16777216.0 && (i32(x) & 1) == 1; }
// JS a ** b for floats, exact where it is (small integer powers, square roots).
fn b_pow(a: f32, b: f32) -> f32 {
  if (b == 0.0) { return 1.0; }
  if (is_nan(a) || is_nan(b)) { return nan(); }
  if (b == 1.0) { return a; }
  if (b == 2.0) { return a * a; }
  if (b == 3.0) { return a * a * a; }
  if (b == -1.0) { return 1.0 / a; }
  if (b == 0.5 && a >= 0.0) { return u_sqrt(a); }
  if (a == 0.0) {
    if (b > 0.0) { return select(0.0, a, is_odd(b)); }
    return select(inf(), bitcast<f32>(bitcast<u32>(a) | 0x7f800000u), is_odd(b));
  }
  let m = abs(a);
  if (abs(b) == inf()) {
    if (m == 1.0) { return nan(); }
    return select(0.0, inf(), (m > 1.0) == (b > 0.0));
  }
  if (m == inf()) {
    let r = select(0.0, inf(), b > 0.0);
    return select(r, -r, a < 0.0 && is_odd(b));
  }
  if (a < 0.0 && !is_int(b)) { return nan(); }
  var r: f32;
  if (is_int(b) && abs(b) <= 64.0) {
    var e = u32(abs(b));
    var base = m;
    r = 1.0;
    loop {
      if ((e & 1u) == 1u) { r = r * base; }
      e = e >> 1u;
      if (e == 0u) { break; }
      base = base * base;
    }
    if (b < 0.0) { r = 1.0 / r; }
  } else {
    r = exp2(b * log2(m));
  }
  return select(r, -r, a < 0.0 && is_odd(b));
}
`;

/**
 * Philox4x32-10 (util/random.ts `philox4x32`), with the 32×32→64-bit product from 16-bit halves
 * (WGSL has no 64-bit integers): integer results, bit-exact with the CPU backends.
 */
export const PHILOX = /* wgsl */ `
fn mulhilo(a: u32, b: u32) -> vec2<u32> {
  let a0 = a & 0xffffu; let a1 = a >> 16u; let b0 = b & 0xffffu; let b1 = b >> 16u;
  let p01 = a0 * b1; let p10 = a1 * b0;
  let mid = ((a0 * b0) >> 16u) + (p01 & 0xffffu) + (p10 & 0xffffu);
  return vec2<u32>(a1 * b1 + (p01 >> 16u) + (p10 >> 16u) + (mid >> 16u), a * b);
}
fn philox(c0: u32, k0: u32, k1: u32) -> vec4<u32> {
  var x = vec4<u32>(c0, 0u, 0u, 0u);
  var key = vec2<u32>(k0, k1);
  for (var r = 0u; r < 10u; r++) {
    if (r > 0u) { key = key + vec2<u32>(0x9e3779b9u, 0xbb67ae85u); }
    let m0 = mulhilo(0xd2511f53u, x.x);
    let m1 = mulhilo(0xcd9e8d57u, x.z);
    x = vec4<u32>(m1.x ^ x.y ^ key.x, m1.y, m0.x ^ x.w ^ key.y, m0.y);
  }
  return x;
}
// The word of element i in the dropout masks' layout (util/random.ts fillDropoutMask).
fn philox_word(i: u32, k0: u32, k1: u32) -> u32 {
  let w = philox(4u * (i >> 4u) + (i & 3u), k0, k1);
  let j = (i >> 2u) & 3u;
  return select(select(select(w.w, w.z, j == 2u), w.y, j == 1u), w.x, j == 0u);
}
// Dropout keeps element i unless the 16-bit half i mod 2 (low first) of word ⌊i/2⌋ is below the
// threshold t (every ≠ 0: all are dropped).
fn dropped(i: u32, k0: u32, k1: u32, t: u32, every: u32) -> bool {
  let w = philox_word(i >> 1u, k0, k1);
  return every != 0u || select(w & 0xffffu, w >> 16u, (i & 1u) == 1u) < t;
}
`;

/** WGSL declaring coordinates c0 … c(r−1) of row-major index `v` over the dims at params `dims`. */
export function coords(dims: readonly number[], v: string): string {
  if (dims.length === 0) return '';
  const lines = [`var rr = ${v};`];
  for (let d = dims.length - 1; d > 0; d--)
    lines.push(`let c${d} = rr % p(${dims[d]}u); rr = rr / p(${dims[d]}u);`);
  lines.push('let c0 = rr;');
  return lines.join('\n  ');
}

/** WGSL reporting a bad index into the error buffer (the first report wins; context.ts reads it). */
export const REPORT = /* wgsl */ `
fn report(code: u32, value: i32, size: u32) {
  if (atomicAdd(&E[0], 1u) == 0u) {
    atomicStore(&E[1], code);
    atomicStore(&E[2], bitcast<u32>(value));
    atomicStore(&E[3], size);
  }
}
`;

/** Workgroups for `count` groups, folded into two dimensions past the per-dimension limit. */
export function grid(count: number, limit = 65535): [number, number, number] {
  if (count <= limit) return [Math.max(count, 1), 1, 1];
  const y = Math.ceil(count / limit);
  return [Math.ceil(count / y), y, 1];
}

/** The linear invocation index of a 1-D kernel of workgroup size `wg` over a `grid` dispatch. */
export const LINEAR = (wg: number) => `let i = gid.x + gid.y * nwg.x * ${wg}u;`;

/** The entry point's signature for a 1-D kernel. */
export const ENTRY = (wg: number) =>
  `@compute @workgroup_size(${wg})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>) {`;

/** A kernel call from its parts. */
export function call(
  key: string,
  slots: Slots,
  params: Params,
  body: () => string,
  workgroups: readonly [number, number, number],
  refresh?: (p: Uint32Array) => void,
): KernelCall {
  return {
    key: `${key}|${slots.signature}`,
    code: () => `${slots.declarations()}\n${body()}`,
    buffers: slots.buffers,
    params: params.words,
    grid: workgroups,
    refresh,
  };
}
