// keel's WebAssembly GEMM kernel (AssemblyScript, SIMD128).
// C[M×N] (row-major, contiguous, stride ldc) = A·B with A and B read through arbitrary strides, so
// transposed operands need no copy: they are packed straight from their layout. GotoBLAS/BLIS loop
// order: B is packed once into 8-column panels per KC-deep slice of K (shared by all threads); then
// for each slice and each MC-tall block of A rows, pack 4-row panels of A and run the 4×8
// micro-kernel (8 v128 accumulators — what V8 keeps in registers) over every panel pair,
// accumulating into C. Threads take row blocks of C (gemmRows) after one packB.
// The FMA build (relaxed SIMD) is produced from the same source with `--enable relaxed-simd` and
// the MADD flag: f32x4.relaxed_madd instead of mul + add.

const KC: i32 = 256;
const MC: i32 = 64;

// @ts-ignore: decorator
@inline
function fma(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}

// @ts-ignore: decorator
@inline
function transpose4(v0: v128, v1: v128, v2: v128, v3: v128, dst: usize, step: usize): void {
  // Stores column q of the 4×4 block [v0; v1; v2; v3] at dst + q·step.
  const a = v128.shuffle<f32>(v0, v1, 0, 4, 1, 5);
  const b = v128.shuffle<f32>(v2, v3, 0, 4, 1, 5);
  const c = v128.shuffle<f32>(v0, v1, 2, 6, 3, 7);
  const d = v128.shuffle<f32>(v2, v3, 2, 6, 3, 7);
  v128.store(dst, v128.shuffle<f32>(a, b, 0, 1, 4, 5));
  v128.store(dst + step, v128.shuffle<f32>(a, b, 2, 3, 6, 7));
  v128.store(dst + 2 * step, v128.shuffle<f32>(c, d, 0, 1, 4, 5));
  v128.store(dst + 3 * step, v128.shuffle<f32>(c, d, 2, 3, 6, 7));
}

/** Packs B[k0..k0+kc, 0..N] into panels of 8 columns: panel j holds kc rows of 8 floats (zero-padded). */
function packBSlice(b: usize, brs: i32, bcs: i32, k0: i32, kc: i32, n: i32, dst: usize): void {
  const panels = (n + 7) >> 3;
  for (let jp = 0; jp < panels; jp++) {
    const j0 = jp << 3;
    const cols = min(8, n - j0);
    const out = dst + <usize>(jp * kc * 8) * 4;
    let p = 0;
    if (cols == 8 && bcs == 1) {
      for (; p < kc; p++) {
        const row = b + <usize>((k0 + p) * brs + j0) * 4;
        const o = out + <usize>(p * 8) * 4;
        v128.store(o, v128.load(row));
        v128.store(o + 16, v128.load(row + 16));
      }
    } else if (cols == 8 && brs == 1) {
      // B transposed (x·Wᵀ): each column of the panel is contiguous in memory; 4×4 transposes.
      for (; p + 4 <= kc; p += 4) {
        for (let jh = 0; jh < 8; jh += 4) {
          const src = b + <usize>((k0 + p) + (j0 + jh) * bcs) * 4;
          const cs = <usize>bcs * 4;
          transpose4(v128.load(src), v128.load(src + cs), v128.load(src + 2 * cs), v128.load(src + 3 * cs), out + <usize>(p * 8 + jh) * 4, 32);
        }
      }
    }
    for (; p < kc; p++) {
      const row = b + <usize>((k0 + p) * brs) * 4;
      const o = out + <usize>(p * 8) * 4;
      for (let jj = 0; jj < 8; jj++) {
        store<f32>(o + <usize>jj * 4, jj < cols ? load<f32>(row + <usize>((j0 + jj) * bcs) * 4) : 0);
      }
    }
  }
}

/** Packs A[i0..i0+mc, k0..k0+kc] into panels of 4 rows: panel i holds kc columns of 4 floats. */
function packA(a: usize, ars: i32, acs: i32, i0: i32, mc: i32, k0: i32, kc: i32, dst: usize): void {
  const panels = (mc + 3) >> 2;
  for (let ip = 0; ip < panels; ip++) {
    const r0 = ip << 2;
    const rows = min(4, mc - r0);
    const out = dst + <usize>(ip * kc * 4) * 4;
    const first = a + <usize>((i0 + r0) * ars + k0 * acs) * 4;
    if (rows == 4 && ars == 1) {
      // A transposed (gᵀ·x): the panel's 4 rows are adjacent at every k.
      const step = <usize>acs * 4;
      for (let p = 0; p < kc; p++) v128.store(out + <usize>(p * 16), v128.load(first + <usize>p * step));
      continue;
    }
    let p0 = 0;
    if (rows == 4 && acs == 1) {
      const rs = <usize>ars * 4;
      for (; p0 + 4 <= kc; p0 += 4) {
        const src = first + <usize>p0 * 4;
        transpose4(v128.load(src), v128.load(src + rs), v128.load(src + 2 * rs), v128.load(src + 3 * rs), out + <usize>(p0 * 16), 16);
      }
    }
    for (let ii = 0; ii < 4; ii++) {
      if (ii < rows) {
        const step = <usize>acs * 4;
        let src = first + <usize>(ii * ars) * 4 + <usize>p0 * step;
        for (let p = p0; p < kc; p++) {
          store<f32>(out + <usize>(p * 4 + ii) * 4, load<f32>(src));
          src += step;
        }
      } else {
        for (let p = p0; p < kc; p++) store<f32>(out + <usize>(p * 4 + ii) * 4, 0);
      }
    }
  }
}

/** The 4×8 micro-kernel: C tile (+)= packedA panel · packedB panel over kc. */
function kernel4x8(pa: usize, pb: usize, kc: i32, c: usize, ldc: i32, rows: i32, cols: i32, accumulate: bool): void {
  let c00 = f32x4.splat(0);
  let c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0);
  let c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0);
  let c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0);
  let c31 = f32x4.splat(0);
  // One k step per iteration: unrolled by 8 (with or without an always-false break between steps)
  // this kernel runs markedly slower (`node bench/unroll.mjs`; numbers in bench/NOTES.md).
  for (let p = 0; p < kc; p++) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb + 16);
    const a0 = v128.load32_splat(pa);
    const a1 = v128.load32_splat(pa + 4);
    const a2 = v128.load32_splat(pa + 8);
    const a3 = v128.load32_splat(pa + 12);
    c00 = fma(a0, b0, c00);
    c01 = fma(a0, b1, c01);
    c10 = fma(a1, b0, c10);
    c11 = fma(a1, b1, c11);
    c20 = fma(a2, b0, c20);
    c21 = fma(a2, b1, c21);
    c30 = fma(a3, b0, c30);
    c31 = fma(a3, b1, c31);
    pa += 16;
    pb += 32;
  }
  const ld = <usize>ldc * 4;
  if (rows == 4 && cols == 8) {
    if (accumulate) {
      c00 = f32x4.add(c00, v128.load(c));
      c01 = f32x4.add(c01, v128.load(c + 16));
      c10 = f32x4.add(c10, v128.load(c + ld));
      c11 = f32x4.add(c11, v128.load(c + ld + 16));
      c20 = f32x4.add(c20, v128.load(c + 2 * ld));
      c21 = f32x4.add(c21, v128.load(c + 2 * ld + 16));
      c30 = f32x4.add(c30, v128.load(c + 3 * ld));
      c31 = f32x4.add(c31, v128.load(c + 3 * ld + 16));
    }
    v128.store(c, c00);
    v128.store(c + 16, c01);
    v128.store(c + ld, c10);
    v128.store(c + ld + 16, c11);
    v128.store(c + 2 * ld, c20);
    v128.store(c + 2 * ld + 16, c21);
    v128.store(c + 3 * ld, c30);
    v128.store(c + 3 * ld + 16, c31);
    return;
  }
  // Edge tile: go through a scratch tile and write the valid part.
  const t = scratch;
  v128.store(t, c00);
  v128.store(t + 16, c01);
  v128.store(t + 32, c10);
  v128.store(t + 48, c11);
  v128.store(t + 64, c20);
  v128.store(t + 80, c21);
  v128.store(t + 96, c30);
  v128.store(t + 112, c31);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const dst = c + <usize>i * ld + <usize>j * 4;
      const v = load<f32>(t + <usize>(i * 8 + j) * 4);
      store<f32>(dst, accumulate ? load<f32>(dst) + v : v);
    }
  }
}

let scratch: usize = 0;

/** Floats of B packed whole (every KC slice, N padded to 8): what `packB` writes. */
export function packedBFloats(n: i32, k: i32): i32 {
  return max(k, 1) * (((n + 7) >> 3) << 3);
}

/** Bytes of per-thread scratch `gemmRows` needs: one packed MC×KC block of A plus a tile. */
export function rowsWorkspaceBytes(): i32 {
  return (KC * MC + 32) * 4;
}

/**
 * Packs all of B (k × n) for `gemmRows`: KC-deep slices one after another, each as 8-column panels.
 * Threads share one packed B; each then packs only its own rows of A.
 */
export function packB(b: usize, brs: i32, bcs: i32, n: i32, k: i32, dst: usize): void {
  const npad = ((n + 7) >> 3) << 3;
  for (let k0 = 0; k0 < k; k0 += KC) {
    const kc = min(KC, k - k0);
    packBSlice(b, brs, bcs, k0, kc, n, dst + <usize>(k0 * npad) * 4);
  }
}

/**
 * Rows i0..i1 of C = A·B (C += A·B when `init`: C holds initial values, e.g. a bias) with B already
 * packed by `packB`. `work` points to rowsWorkspaceBytes() bytes of this thread's own scratch.
 * Threads split C by row blocks and call this concurrently.
 */
export function gemmRows(a: usize, ars: i32, acs: i32, pb: usize, c: usize, ldc: i32, i0: i32, i1: i32, n: i32, k: i32, work: usize, init: bool): void {
  const npad = ((n + 7) >> 3) << 3;
  const pa = work;
  scratch = pa + <usize>(KC * MC) * 4;
  if (k == 0) {
    if (!init) for (let i = i0; i < i1; i++) memory.fill(c + <usize>(i * ldc) * 4, 0, <usize>n * 4);
    return;
  }
  for (let k0 = 0; k0 < k; k0 += KC) {
    const kc = min(KC, k - k0);
    const pbs = pb + <usize>(k0 * npad) * 4;
    for (let r0 = i0; r0 < i1; r0 += MC) {
      const mc = min(MC, i1 - r0);
      packA(a, ars, acs, r0, mc, k0, kc, pa);
      for (let ip = 0; ip < mc; ip += 4) {
        const rows = min(4, mc - ip);
        const apanel = pa + <usize>((ip >> 2) * kc * 4) * 4;
        for (let j0 = 0; j0 < n; j0 += 8) {
          const cols = min(8, n - j0);
          kernel4x8(apanel, pbs + <usize>((j0 >> 3) * kc * 8) * 4, kc, c + <usize>((r0 + ip) * ldc + j0) * 4, ldc, rows, cols, init || k0 > 0);
        }
      }
    }
  }
}

/** Writes `n` copies of `value` from byte address `dst` (a broadcast operand made dense). */
export function fill32(dst: usize, n: i32, value: f32): void {
  const v = f32x4.splat(value);
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(dst + (<usize>i << 2), v);
  for (; i < n; i++) store<f32>(dst + (<usize>i << 2), value);
}

/** First byte free for the host to use. */
export function heapBase(): usize {
  return (__heap_base + 15) & ~15;
}

/**
 * C = A·B without packing, for products too small to pay for it (matrix-vector products, a few
 * hundred multiply-adds): one dot product per output, four lanes at a time where A's rows and B's
 * columns are both contiguous, scalar otherwise; Aᵀ·v as a sum of A's columns. C is contiguous.
 */
export function gemmSmall(a: usize, ars: i32, acs: i32, b: usize, brs: i32, bcs: i32, c: usize, m: i32, n: i32, k: i32): void {
  if (n == 1 && ars == 1 && acs != 1) {
    // Aᵀ·v (A's columns contiguous): c += A[:, p]·b[p] for each p, four rows at a time.
    memory.fill(c, 0, <usize>m * 4);
    for (let p = 0; p < k; p++) {
      const col = a + <usize>(p * acs) * 4;
      const bp = load<f32>(b + <usize>(p * brs) * 4);
      const bv = f32x4.splat(bp);
      let i = 0;
      for (; i + 4 <= m; i += 4) {
        const q = <usize>i << 2;
        v128.store(c + q, fma(v128.load(col + q), bv, v128.load(c + q)));
      }
      for (; i < m; i++) store<f32>(c + (<usize>i << 2), load<f32>(c + (<usize>i << 2)) + load<f32>(col + (<usize>i << 2)) * bp);
    }
    return;
  }
  const vec = acs == 1 && brs == 1;
  for (let i = 0; i < m; i++) {
    const ra = a + <usize>(i * ars) * 4;
    for (let j = 0; j < n; j++) {
      const cb = b + <usize>(j * bcs) * 4;
      let p = 0;
      let acc = f32x4.splat(0);
      if (vec) {
        for (; p + 4 <= k; p += 4) acc = fma(v128.load(ra + (<usize>p << 2)), v128.load(cb + (<usize>p << 2)), acc);
      }
      let s: f32 = f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + (f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3));
      for (; p < k; p++) s += load<f32>(ra + <usize>(p * acs) * 4) * load<f32>(cb + <usize>(p * brs) * 4);
      store<f32>(c + <usize>(i * n + j) * 4, s);
    }
  }
}
