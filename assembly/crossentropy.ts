// Softmax cross-entropy's forward and backward in one pass over the logits (a compiled step's
// `crossEntropyStep`, src/backend/fused.ts), with the bits of the js backend's row kernels
// (src/backend/js/crossentropy.ts): float64 arithmetic in the same order, and exp and log as
// fdlibm's, which is what V8's Math.exp and Math.log compute — so compiled and eager steps keep
// giving the same losses and gradients. Operands are in this memory; strides are in elements.
//
// expF64 and logF64 follow fdlibm 5.3's e_exp.c and e_log.c:
//   Copyright (C) 1993 by Sun Microsystems, Inc. All rights reserved.
//   Developed at SunPro, a Sun Microsystems, Inc. business.
//   Permission to use, copy, modify, and distribute this software is freely granted, provided
//   that this notice is preserved.

@inline function highWord(x: f64): i32 {
  return <i32>(reinterpret<u64>(x) >> 32);
}

@inline function lowWord(x: f64): u32 {
  return <u32>reinterpret<u64>(x);
}

@inline function withHighWord(x: f64, h: u32): f64 {
  return reinterpret<f64>((<u64>h << 32) | (reinterpret<u64>(x) & 0xffffffff));
}

@inline function fromHighWord(h: u32): f64 {
  return reinterpret<f64>(<u64>h << 32);
}

const LN2_HI: f64 = 6.9314718036912381649e-1;
const LN2_LO: f64 = 1.90821492927058770002e-10;
const INV_LN2: f64 = 1.442695040888963387;
const P1: f64 = 1.66666666666666019037e-1;
const P2: f64 = -2.77777777770155933842e-3;
const P3: f64 = 6.61375632143793436117e-5;
const P4: f64 = -1.6533902205465251539e-6;
const P5: f64 = 4.13813679705723846039e-8;
const TWO_M1000: f64 = 9.3326361850321887899e-302;

/** e^x as fdlibm computes it (argument reduction by k·ln 2, a degree-5 rational remainder). */
export function expF64(x: f64): f64 {
  // V8 returns Math.E for exactly 1 (fdlibm's result is one ulp above it).
  if (x == 1.0) return 2.718281828459045;
  let h = highWord(x);
  const negative = <i32>(<u32>h >> 31);
  h &= 0x7fffffff;
  let hi: f64 = 0;
  let lo: f64 = 0;
  let k: i32 = 0;
  if (h >= 0x40862e42) {
    // |x| ≥ 709.78: NaN, ±∞, overflow or underflow.
    if (h >= 0x7ff00000) {
      if (((h & 0xfffff) | lowWord(x)) != 0) return x + x;
      return negative ? 0 : x;
    }
    if (x > 7.09782712893383973096e2) return Infinity;
    if (x < -7.4513321910194110842e2) return 0;
  }
  if (h > 0x3fd62e42) {
    // |x| > ln2/2: x = k·ln2 + r.
    if (h < 0x3ff0a2b2) {
      hi = negative ? x + LN2_HI : x - LN2_HI;
      lo = negative ? -LN2_LO : LN2_LO;
      k = 1 - negative - negative;
    } else {
      k = <i32>(INV_LN2 * x + (negative ? -0.5 : 0.5));
      const t = <f64>k;
      hi = x - t * LN2_HI;
      lo = t * LN2_LO;
    }
    x = hi - lo;
  } else if (h < 0x3e300000) {
    return 1 + x; // |x| < 2⁻²⁸
  }
  const t = x * x;
  const twopk = k >= -1021 ? fromHighWord(<u32>(0x3ff00000 + (k << 20))) : fromHighWord(<u32>(0x3ff00000 + ((k + 1000) << 20)));
  const c = x - t * (P1 + t * (P2 + t * (P3 + t * (P4 + t * P5))));
  if (k == 0) return 1 - ((x * c) / (c - 2.0) - x);
  const y = 1 - (lo - (x * c) / (2.0 - c) - hi);
  if (k >= -1021) {
    if (k == 1024) return y * 2.0 * 8.98846567431158e307;
    return y * twopk;
  }
  return y * twopk * TWO_M1000;
}

const TWO54: f64 = 1.8014398509481984e16;
const LG1: f64 = 6.66666666666673513e-1;
const LG2: f64 = 3.999999999940941908e-1;
const LG3: f64 = 2.857142874366239149e-1;
const LG4: f64 = 2.222219843214978396e-1;
const LG5: f64 = 1.818357216161805012e-1;
const LG6: f64 = 1.531383769920937332e-1;
const LG7: f64 = 1.479819860511658591e-1;

/** ln x as fdlibm computes it (x = 2ᵏ·(1 + f), log(1 + f) from s = f/(2 + f)). */
export function logF64(x: f64): f64 {
  let hx = highWord(x);
  let k: i32 = 0;
  if (hx < 0x00100000) {
    if (((hx & 0x7fffffff) | lowWord(x)) == 0) return -Infinity;
    if (hx < 0) return NaN;
    k -= 54; // subnormal: scale up
    x *= TWO54;
    hx = highWord(x);
  }
  if (hx >= 0x7ff00000) return x + x;
  k += (hx >> 20) - 1023;
  hx &= 0x000fffff;
  let i = (hx + 0x95f64) & 0x100000;
  x = withHighWord(x, <u32>(hx | (i ^ 0x3ff00000))); // x or x/2 into [√2/2, √2)
  k += i >> 20;
  const f = x - 1.0;
  const dk = <f64>k;
  if ((0x000fffff & (2 + hx)) < 3) {
    // |f| < 2⁻²⁰
    if (f == 0) return k == 0 ? 0 : dk * LN2_HI + dk * LN2_LO;
    const r = f * f * (0.5 - 0.33333333333333333 * f);
    return k == 0 ? f - r : dk * LN2_HI - (r - dk * LN2_LO - f);
  }
  const s = f / (2.0 + f);
  const z = s * s;
  i = hx - 0x6147a;
  const w = z * z;
  const j = 0x6b851 - hx;
  const t1 = w * (LG2 + w * (LG4 + w * LG6));
  const t2 = z * (LG1 + w * (LG3 + w * (LG5 + w * LG7)));
  i |= j;
  const r = t2 + t1;
  if (i > 0) {
    const hfsq = 0.5 * f * f;
    return k == 0 ? f - (hfsq - s * (hfsq + r)) : dk * LN2_HI - (hfsq - (s * (hfsq + r) + dk * LN2_LO) - f);
  }
  return k == 0 ? f - s * (f - r) : dk * LN2_HI - (s * (f - r) - dk * LN2_LO - f);
}

/**
 * The fused step over logits x (n rows of c float32, strides rs, cs) and int32 classes at `target`
 * (stride ts): each row's softmax (float64, n·c at `probs`) and loss lse − x[t] (float32, n at
 * `rows`); the reduced loss Σ rows / count (the js row sum: four interleaved float64 partials) as a
 * float32 at `loss`; and dx = factor·g[i]·(softmax − onehot(t)) (float32, n·c contiguous at `dx`,
 * g float32 with stride gs). Returns −1, or the first row whose class is outside 0 … c − 1 (then
 * nothing is written).
 */
export function crossEntropyStep(x: usize, rs: i32, cs: i32, n: i32, c: i32, target: usize, ts: i32, g: usize, gs: i32, factor: f64, count: f64, probs: usize, rows: usize, loss: usize, dx: usize): i32 {
  for (let i = 0; i < n; i++) {
    const t = load<i32>(target + (<usize>(i * ts) << 2));
    if (t < 0 || t >= c) return i;
  }
  for (let i = 0; i < n; i++) {
    const row = x + (<usize>(i * rs) << 2);
    const step = <usize>cs << 2;
    // The row's maximum; a NaN anywhere makes it NaN (the last one seen), as the js kernel.
    let m: f64 = -Infinity;
    for (let j = 0, at = row; j < c; j++, at += step) {
      const v = <f64>load<f32>(at);
      if (v > m || v != v) m = v;
    }
    const shift = m - m == 0 ? m : 0;
    const p0 = probs + (<usize>(i * c) << 3);
    let s: f64 = 0;
    for (let j = 0, at = row; j < c; j++, at += step) {
      const e = expF64(<f64>load<f32>(at) - shift);
      store<f64>(p0 + (<usize>j << 3), e);
      s += e;
    }
    const lse = shift + logF64(s);
    const t = load<i32>(target + (<usize>(i * ts) << 2));
    store<f32>(rows + (<usize>i << 2), <f32>(lse - <f64>load<f32>(row + <usize>t * step)));
    for (let j = 0; j < c; j++) {
      const p = p0 + (<usize>j << 3);
      store<f64>(p, load<f64>(p) / s);
    }
  }
  let t0: f64 = 0;
  let t1: f64 = 0;
  let t2: f64 = 0;
  let t3: f64 = 0;
  let j = 0;
  for (; j + 4 <= n; j += 4) {
    const q = rows + (<usize>j << 2);
    t0 += <f64>load<f32>(q);
    t1 += <f64>load<f32>(q, 4);
    t2 += <f64>load<f32>(q, 8);
    t3 += <f64>load<f32>(q, 12);
  }
  for (; j < n; j++) t0 += <f64>load<f32>(rows + (<usize>j << 2));
  store<f32>(loss, <f32>((t0 + t1 + (t2 + t3)) / count));
  for (let i = 0, o = 0; i < n; i++) {
    const t = load<i32>(target + (<usize>(i * ts) << 2));
    const scale = factor * <f64>load<f32>(g + (<usize>(i * gs) << 2));
    // d loss_i / d x_ij = softmax(x_i)_j − [j = t_i]
    for (let k = 0; k < c; k++, o++) {
      const p = load<f64>(probs + (<usize>o << 3));
      store<f32>(dx + (<usize>o << 2), <f32>(scale * (p - (k == t ? 1.0 : 0.0))));
    }
  }
  return -1;
}

/**
 * Sums over the rows of a contiguous float32 [rows, cols] (a bias gradient), accumulated in float64
 * row by row in `acc` (cols doubles) and rounded once into `out` — the js backend's column sums.
 */
export function columnSums(x: usize, rows: i32, cols: i32, acc: usize, out: usize): void {
  memory.fill(acc, 0, <usize>cols << 3);
  for (let r = 0; r < rows; r++) {
    const base = x + (<usize>(r * cols) << 2);
    let j = 0;
    for (; j + 2 <= cols; j += 2) {
      const a = acc + (<usize>j << 3);
      v128.store(a, f64x2.add(v128.load(a), f64x2.promote_low_f32x4(v128.load64_zero(base + (<usize>j << 2)))));
    }
    for (; j < cols; j++) {
      const a = acc + (<usize>j << 3);
      store<f64>(a, load<f64>(a) + <f64>load<f32>(base + (<usize>j << 2)));
    }
  }
  for (let j = 0; j < cols; j++) store<f32>(out + (<usize>j << 2), <f32>load<f64>(acc + (<usize>j << 3)));
}
