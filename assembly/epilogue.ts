// The fused kernels of compiled steps around a linear layer's product (definitions: the eager
// composites in src/backend/fused.ts; each gives the composite's bits): the forward epilogue — relu
// and inverted dropout in one pass over the product — and the backward of relu (after dropout) with
// the bias gradient's column sums in the same pass. Operands are contiguous float32 in this memory.

import { maskRange } from './philox';

/**
 * Over n floats of c: h = relu(c) (as the unary kernel: max(x, 0), NaN kept) when `relu`, written to
 * `hidden` (may be c itself); with `drop`, the dropout mask of the stream (key k0, k1; philox.ts) to
 * `mask` and y = h·mask to `out`. Without dropout, `out` receives h.
 */
export function reluDropout(c: usize, n: i32, relu: bool, drop: bool, k0: u32, k1: u32, threshold: u32, dropAll: bool, scale: f32, hidden: usize, out: usize, mask: usize): void {
  if (drop) maskRange(0, n, k0, k1, threshold, dropAll, scale, mask);
  const zero = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const q = <usize>i << 2;
    let v = v128.load(c + q);
    if (relu) {
      v = f32x4.max(v, zero);
      if (drop) v128.store(hidden + q, v);
    }
    if (drop) v = f32x4.mul(v, v128.load(mask + q));
    v128.store(out + q, v);
  }
  for (; i < n; i++) {
    const q = <usize>i << 2;
    let v = load<f32>(c + q);
    if (relu) {
      v = max(v, 0);
      if (drop) store<f32>(hidden + q, v);
    }
    if (drop) v = v * load<f32>(mask + q);
    store<f32>(out + q, v);
  }
}

/**
 * relu's backward after dropout, over rows × cols: t = g·mask (mask 0: none, t = g), then
 * dz = h > 0 ? t : 0 (h: relu's output; 0 where h is NaN) to `out`; with `db` (non-zero), the column
 * sums of dz accumulated in float64 row by row in `acc` (cols doubles of scratch) and rounded once
 * into db — the order and rounding of the js backend's column sums.
 */
export function reluBackward(g: usize, h: usize, mask: usize, rows: i32, cols: i32, out: usize, db: usize, acc: usize): void {
  const zero = f32x4.splat(0);
  if (db) memory.fill(acc, 0, <usize>cols << 3);
  for (let r = 0; r < rows; r++) {
    const base = <usize>(r * cols) << 2;
    let j = 0;
    for (; j + 4 <= cols; j += 4) {
      const q = base + (<usize>j << 2);
      let t = v128.load(g + q);
      if (mask) t = f32x4.mul(t, v128.load(mask + q));
      const dz = v128.and(t, f32x4.gt(v128.load(h + q), zero));
      v128.store(out + q, dz);
      if (db) {
        const a = acc + (<usize>j << 3);
        v128.store(a, f64x2.add(v128.load(a), f64x2.promote_low_f32x4(dz)));
        v128.store(a, f64x2.add(v128.load(a, 16), f64x2.promote_low_f32x4(v128.shuffle<f32>(dz, dz, 2, 3, 0, 1))), 16);
      }
    }
    for (; j < cols; j++) {
      const q = base + (<usize>j << 2);
      let t = load<f32>(g + q);
      if (mask) t = t * load<f32>(mask + q);
      const dz: f32 = load<f32>(h + q) > 0 ? t : 0;
      store<f32>(out + q, dz);
      if (db) {
        const a = acc + (<usize>j << 3);
        store<f64>(a, load<f64>(a) + <f64>dz);
      }
    }
  }
  if (db) for (let j = 0; j < cols; j++) store<f32>(db + (<usize>j << 2), <f32>load<f64>(acc + (<usize>j << 3)));
}

/**
 * The rows `index[j·stride]` (int32) of a row-major array at `x` (`size` rows of `rowBytes` bytes)
 * copied in order to `out`: a training batch gathered from its data set. Returns a negative number,
 * or the position j of the first index outside 0 … size − 1 (nothing is copied from there on).
 */
export function gatherRows(x: usize, rowBytes: i32, size: i32, index: usize, stride: i32, count: i32, out: usize): i32 {
  let touched: i32 = 0;
  const span = <usize>rowBytes;
  for (let j = 0; j < count; j++) {
    const r = load<i32>(index + (<usize>(j * stride) << 2));
    if (r < 0 || r >= size) return j;
    touched += touchAhead(x, span, size, index, stride, j, count, 2048);
    memory.copy(out + <usize>j * span, x + <usize>r * span, span);
  }
  return touched < 0 ? -2 : -1;
}

/**
 * gatherRows for bytes made floats: the rows `index[j·stride]` (int32) of `size` rows of `cols`
 * uint8 values at `x`, each value v written to `out` (float32, rows in order) as f32(v) / divisor —
 * a batch of images gathered from their stored pixels and converted in the same pass (fused.ts:
 * `gatherPixels`; float32 division, as the eager div kernel). Returns what gatherRows returns.
 */
export function gatherPixels(x: usize, cols: i32, size: i32, index: usize, stride: i32, count: i32, out: usize, divisor: f32): i32 {
  let touched: i32 = 0;
  const span = <usize>cols;
  const d = f32x4.splat(divisor);
  const body = cols & ~15;
  for (let j = 0; j < count; j++) {
    const r = load<i32>(index + (<usize>(j * stride) << 2));
    if (r < 0 || r >= size) return j;
    // Every 64-byte line: a row of bytes is short, and touching each line measured ~5% faster than
    // one every 2 KB on random Fashion-MNIST rows.
    touched += touchAhead(x, span, size, index, stride, j, count, 64);
    const src = x + <usize>r * span;
    const dst = out + ((<usize>j * span) << 2);
    let k = 0;
    for (; k < body; k += 16) {
      const b = v128.load(src + <usize>k);
      const lo = i16x8.extend_low_i8x16_u(b);
      const hi = i16x8.extend_high_i8x16_u(b);
      const o = dst + (<usize>k << 2);
      v128.store(o, f32x4.div(f32x4.convert_i32x4_u(i32x4.extend_low_i16x8_u(lo)), d));
      v128.store(o + 16, f32x4.div(f32x4.convert_i32x4_u(i32x4.extend_high_i16x8_u(lo)), d));
      v128.store(o + 32, f32x4.div(f32x4.convert_i32x4_u(i32x4.extend_low_i16x8_u(hi)), d));
      v128.store(o + 48, f32x4.div(f32x4.convert_i32x4_u(i32x4.extend_high_i16x8_u(hi)), d));
    }
    for (; k < cols; k++) store<f32>(dst + (<usize>k << 2), <f32>load<u8>(src + <usize>k) / divisor);
  }
  return touched < 0 ? -2 : -1;
}

/**
 * Rows of a large data set are fetched from memory: touching the row AHEAD rows further on (its
 * first byte, one every `step` bytes and its last) before copying row j starts those fetches early,
 * so their latency overlaps the copies (wasm has no prefetch instruction; the caller keeps the loads
 * by summing what this returns).
 */
@inline
function touchAhead(x: usize, span: usize, size: i32, index: usize, stride: i32, j: i32, count: i32, step: usize): i32 {
  if (j + AHEAD >= count) return 0;
  const ra = load<i32>(index + (<usize>((j + AHEAD) * stride) << 2));
  if (ra < 0 || ra >= size) return 0;
  const at = x + <usize>ra * span;
  let touched: i32 = 0;
  for (let o: usize = 0; o < span; o += step) touched += load<u8>(at + o);
  return touched + load<u8>(at + span - 1);
}

/** How many rows ahead gatherRows touches the rows it will copy (4: −27%, 8: −31%, 16: −29% of the
 * dropout MLP's batch gather in training; bench/NOTES.md). */
const AHEAD = 8;
