// Philox4x32-10 in SIMD128, four counters per vector: keel's dropout masks (src/util/random.ts
// `fillDropoutMask` is the spec, and the js reference). Element i of a mask takes the 16-bit half
// i mod 2 (low first) of word j = ⌊i/2⌋ of the stream, word j being word ⌊j/4⌋ mod 4 of counter
// 4·⌊j/16⌋ + j mod 4; so the counters of block b give its 32 elements as four vectors in order: word
// vector w holds elements 32b + 8w … 32b + 8w + 7 as its eight 16-bit lanes. Two blocks are computed
// side by side: a round is a chain of dependent products, and interleaving two chains hides their
// latency.

const M0: u32 = 0xd2511f53;
const M1: u32 = 0xcd9e8d57;
const W0: u32 = 0x9e3779b9;
const W1: u32 = 0xbb67ae85;

/** The high 32 bits of x·m per lane (unsigned), from the two 64-bit half products `lo`, `hi`. */
// @ts-ignore: decorator
@inline
function high(lo: v128, hi: v128): v128 {
  return v128.shuffle<i32>(lo, hi, 1, 3, 5, 7);
}

/** The low 32 bits of x·m per lane, from the same half products (no second multiply). */
// @ts-ignore: decorator
@inline
function low(lo: v128, hi: v128): v128 {
  return v128.shuffle<i32>(lo, hi, 0, 2, 4, 6);
}

/**
 * The mask values of one word vector's eight 16-bit halves (eight elements in order), their first
 * `count` stored at dst: 0 where the half < threshold (or dropAll), else keep.
 */
// @ts-ignore: decorator
@inline
function storeMask(dst: usize, x: v128, thr: v128, all: v128, keep: v128, count: i32): void {
  const dropped = v128.or(i16x8.lt_u(x, thr), all);
  const zero = f32x4.splat(0);
  storeSome(dst, v128.bitselect(zero, keep, i32x4.extend_low_i16x8_s(dropped)), count);
  storeSome(dst + 16, v128.bitselect(zero, keep, i32x4.extend_high_i16x8_s(dropped)), count - 4);
}

/** Stores the first `count` (≤ 0 … ≥ 4) lanes of v at dst. */
// @ts-ignore: decorator
@inline
function storeSome(dst: usize, v: v128, count: i32): void {
  if (count >= 4) {
    v128.store(dst, v);
    return;
  }
  if (count > 0) v128.store32_lane(dst, v, 0);
  if (count > 1) v128.store32_lane(dst, v, 1, 4);
  if (count > 2) v128.store32_lane(dst, v, 2, 8);
}

/** Stores a block's 32 mask values (its first `count`) from its four word vectors at dst. */
// @ts-ignore: decorator
@inline
function storeBlock(dst: usize, v0: v128, v1: v128, v2: v128, v3: v128, thr: v128, all: v128, keep: v128, count: i32): void {
  storeMask(dst, v0, thr, all, keep, count);
  storeMask(dst + 32, v1, thr, all, keep, count - 8);
  storeMask(dst + 64, v2, thr, all, keep, count - 16);
  storeMask(dst + 96, v3, thr, all, keep, count - 24);
}

/**
 * Dropout mask values of `count` elements starting at element 32·b of the stream under key
 * (k0, k1), written as floats at `dst`: `keep` where the element's 16-bit half is ≥ threshold
 * (< 2¹⁶) and not `dropAll`, else 0.
 */
export function maskRange(b: u32, count: i32, k0: u32, k1: u32, threshold: u32, dropAll: bool, keep: f32, dst: usize): void {
  const m0 = i32x4.splat(M0);
  const m1 = i32x4.splat(M1);
  const w0 = i32x4.splat(W0);
  const w1 = i32x4.splat(W1);
  const thr = i16x8.splat(<i16>threshold);
  const all = i32x4.splat(dropAll ? -1 : 0);
  const kv = f32x4.splat(keep);
  const lane = v128(0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0);
  for (let e = 0; e < count; e += 64, b += 2) {
    // Blocks b and b + 1.
    let x0 = i32x4.add(i32x4.splat(b << 2), lane);
    let y0 = i32x4.add(i32x4.splat((b + 1) << 2), lane);
    let x1 = i32x4.splat(0);
    let x2 = i32x4.splat(0);
    let x3 = i32x4.splat(0);
    let y1 = x1;
    let y2 = x1;
    let y3 = x1;
    let key0 = i32x4.splat(k0);
    let key1 = i32x4.splat(k1);
    for (let r = 0; r < 10; r++) {
      // Each 64-bit product once (two half vectors); its high and low words by shuffles.
      const px0 = i64x2.extmul_low_i32x4_u(x0, m0);
      const qx0 = i64x2.extmul_high_i32x4_u(x0, m0);
      const py0 = i64x2.extmul_low_i32x4_u(y0, m0);
      const qy0 = i64x2.extmul_high_i32x4_u(y0, m0);
      const px1 = i64x2.extmul_low_i32x4_u(x2, m1);
      const qx1 = i64x2.extmul_high_i32x4_u(x2, m1);
      const py1 = i64x2.extmul_low_i32x4_u(y2, m1);
      const qy1 = i64x2.extmul_high_i32x4_u(y2, m1);
      const hx0 = high(px0, qx0);
      const hy0 = high(py0, qy0);
      const lx0 = low(px0, qx0);
      const ly0 = low(py0, qy0);
      const hx1 = high(px1, qx1);
      const hy1 = high(py1, qy1);
      const lx1 = low(px1, qx1);
      const ly1 = low(py1, qy1);
      x0 = v128.xor(v128.xor(hx1, x1), key0);
      y0 = v128.xor(v128.xor(hy1, y1), key0);
      x1 = lx1;
      y1 = ly1;
      x2 = v128.xor(v128.xor(hx0, x3), key1);
      y2 = v128.xor(v128.xor(hy0, y3), key1);
      x3 = lx0;
      y3 = ly0;
      key0 = i32x4.add(key0, w0);
      key1 = i32x4.add(key1, w1);
    }
    const at = dst + (<usize>e << 2);
    storeBlock(at, x0, x1, x2, x3, thr, all, kv, count - e);
    if (count - e > 32) storeBlock(at + 128, y0, y1, y2, y3, thr, all, kv, count - e - 32);
  }
}
