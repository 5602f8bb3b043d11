// keel's WebAssembly element-wise kernels (AssemblyScript, SIMD128), float32 only.
// Operands are 2-D strided windows (rows × cols, strides in elements) in this memory; the output is
// contiguous. The inner loop is SIMD when both inputs step by 1 or one of them is broadcast
// (stride 0) along the row, scalar otherwise. Every op is the correctly rounded float32 result, so
// each kernel matches the js backend bit for bit (JS computes in float64 and rounds once, which is
// exact for + − × ÷ √). Op codes are shared with src/backend/wasm/elementwise.ts.

import { maskRange } from './philox';

// Binary op codes.
const ADD: i32 = 0;
const SUB: i32 = 1;
const MUL: i32 = 2;
const DIV: i32 = 3;
const MAX: i32 = 4;
const MIN: i32 = 5;
/** out = b > 0 ? a : 0 — relu's backward given its output b (0 where b is NaN). */
const RELU_GRAD: i32 = 6;

// Unary op codes.
const COPY: i32 = 0;
const NEG: i32 = 1;
const ABS: i32 = 2;
const SQRT: i32 = 3;
const RELU: i32 = 4;

// @ts-ignore: decorator
@inline
function vbin(op: i32, x: v128, y: v128): v128 {
  switch (op) {
    case ADD:
      return f32x4.add(x, y);
    case SUB:
      return f32x4.sub(x, y);
    case MUL:
      return f32x4.mul(x, y);
    case DIV:
      return f32x4.div(x, y);
    case MAX:
      return f32x4.max(x, y);
    case MIN:
      return f32x4.min(x, y);
    default:
      return v128.and(x, f32x4.gt(y, f32x4.splat(0)));
  }
}

// @ts-ignore: decorator
@inline
function sbin(op: i32, x: f32, y: f32): f32 {
  switch (op) {
    case ADD:
      return x + y;
    case SUB:
      return x - y;
    case MUL:
      return x * y;
    case DIV:
      return x / y;
    case MAX:
      return max(x, y);
    case MIN:
      return min(x, y);
    default:
      return y > 0 ? x : 0;
  }
}

/** One row: o[j] = op(a[j·as], b[j·bs]) for j < n. */
// @ts-ignore: decorator
@inline
function binaryRow(op: i32, a: usize, as: i32, b: usize, bs: i32, o: usize, n: i32): void {
  let j = 0;
  if (as == 1 && bs == 1) {
    for (; j + 4 <= n; j += 4) {
      const q = <usize>j << 2;
      v128.store(o + q, vbin(op, v128.load(a + q), v128.load(b + q)));
    }
  } else if (as == 1 && bs == 0) {
    const y = v128.load32_splat(b);
    for (; j + 4 <= n; j += 4) {
      const q = <usize>j << 2;
      v128.store(o + q, vbin(op, v128.load(a + q), y));
    }
  } else if (as == 0 && bs == 1) {
    const x = v128.load32_splat(a);
    for (; j + 4 <= n; j += 4) {
      const q = <usize>j << 2;
      v128.store(o + q, vbin(op, x, v128.load(b + q)));
    }
  }
  for (; j < n; j++) {
    store<f32>(o + (<usize>j << 2), sbin(op, load<f32>(a + <usize>(j * as) * 4), load<f32>(b + <usize>(j * bs) * 4)));
  }
}

/** out[i, j] = op(a[i·ars + j·acs], b[i·brs + j·bcs]), out contiguous rows × cols. */
export function binary(op: i32, a: usize, ars: i32, acs: i32, b: usize, brs: i32, bcs: i32, o: usize, rows: i32, cols: i32): void {
  for (let i = 0; i < rows; i++) {
    const ra = a + <usize>(i * ars) * 4;
    const rb = b + <usize>(i * brs) * 4;
    const ro = o + <usize>(i * cols) * 4;
    // One specialised loop per op: the switch is resolved outside the row.
    switch (op) {
      case ADD:
        binaryRow(ADD, ra, acs, rb, bcs, ro, cols);
        break;
      case SUB:
        binaryRow(SUB, ra, acs, rb, bcs, ro, cols);
        break;
      case MUL:
        binaryRow(MUL, ra, acs, rb, bcs, ro, cols);
        break;
      case DIV:
        binaryRow(DIV, ra, acs, rb, bcs, ro, cols);
        break;
      case MAX:
        binaryRow(MAX, ra, acs, rb, bcs, ro, cols);
        break;
      case MIN:
        binaryRow(MIN, ra, acs, rb, bcs, ro, cols);
        break;
      default:
        binaryRow(RELU_GRAD, ra, acs, rb, bcs, ro, cols);
    }
  }
}

// @ts-ignore: decorator
@inline
function vun(op: i32, x: v128): v128 {
  switch (op) {
    case NEG:
      return f32x4.neg(x);
    case ABS:
      return f32x4.abs(x);
    case SQRT:
      return f32x4.sqrt(x);
    case RELU:
      // max(NaN, 0) = NaN and max(−0, +0) = +0, as the js kernel.
      return f32x4.max(x, f32x4.splat(0));
    default:
      return x;
  }
}

// @ts-ignore: decorator
@inline
function sun(op: i32, x: f32): f32 {
  switch (op) {
    case NEG:
      return -x;
    case ABS:
      return abs(x);
    case SQRT:
      return sqrt(x);
    case RELU:
      return max(x, 0);
    default:
      return x;
  }
}

// @ts-ignore: decorator
@inline
function unaryRow(op: i32, x: usize, xs: i32, o: usize, n: i32): void {
  let j = 0;
  if (xs == 1) {
    for (; j + 4 <= n; j += 4) {
      const q = <usize>j << 2;
      v128.store(o + q, vun(op, v128.load(x + q)));
    }
  }
  for (; j < n; j++) store<f32>(o + (<usize>j << 2), sun(op, load<f32>(x + <usize>(j * xs) * 4)));
}

/** out[i, j] = op(x[i·xrs + j·xcs]), out contiguous rows × cols. */
export function unary(op: i32, x: usize, xrs: i32, xcs: i32, o: usize, rows: i32, cols: i32): void {
  for (let i = 0; i < rows; i++) {
    const rx = x + <usize>(i * xrs) * 4;
    const ro = o + <usize>(i * cols) * 4;
    switch (op) {
      case NEG:
        unaryRow(NEG, rx, xcs, ro, cols);
        break;
      case ABS:
        unaryRow(ABS, rx, xcs, ro, cols);
        break;
      case SQRT:
        unaryRow(SQRT, rx, xcs, ro, cols);
        break;
      case RELU:
        unaryRow(RELU, rx, xcs, ro, cols);
        break;
      default:
        unaryRow(COPY, rx, xcs, ro, cols);
    }
  }
}

/**
 * Inverted dropout of n contiguous floats with keel's counter-based masks (philox.ts; the spec is
 * src/util/random.ts `fillDropoutMask`) under key (k0, k1), x[0] being element 32·b0 of the mask
 * stream: mask[i] = (its 16-bit half < threshold or `dropAll`, when p·2¹⁶ rounds up to 2¹⁶) ? 0 :
 * scale, out[i] = x[i]·mask[i]. Writes exactly n elements.
 */
export function dropout(x: usize, n: i32, k0: u32, k1: u32, b0: u32, threshold: u32, dropAll: bool, scale: f32, out: usize, mask: usize): void {
  maskRange(b0, n, k0, k1, threshold, dropAll, scale, mask);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const q = <usize>i << 2;
    v128.store(out + q, f32x4.mul(v128.load(x + q), v128.load(mask + q)));
  }
  for (; i < n; i++) {
    const q = <usize>i << 2;
    store<f32>(out + q, load<f32>(x + q) * load<f32>(mask + q));
  }
}

/**
 * Plain SGD on float32 parameters: w[i] ← w[i] − lr·g[i], computed in float64 and rounded once
 * (as the js optimizer does, so the same bits), two lanes of f64 at a time.
 */
export function sgd(w: usize, g: usize, n: i32, lr: f64): void {
  const vlr = f64x2.splat(lr);
  let i = 0;
  for (; i + 2 <= n; i += 2) {
    const q = <usize>i << 2;
    const wv = f64x2.promote_low_f32x4(v128.load64_zero(w + q));
    const gv = f64x2.promote_low_f32x4(v128.load64_zero(g + q));
    v128.store64_lane(w + q, f32x4.demote_f64x2_zero(f64x2.sub(wv, f64x2.mul(vlr, gv))), 0);
  }
  for (; i < n; i++) {
    const q = <usize>i << 2;
    store<f32>(w + q, <f32>(<f64>load<f32>(w + q) - lr * <f64>load<f32>(g + q)));
  }
}
