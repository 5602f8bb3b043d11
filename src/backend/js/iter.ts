/**
 * Strided iteration for the js backend: collapses dimensions that are contiguous for every operand
 * and visits the index space as runs along the innermost dimension, so kernels call their inner loop
 * once per run rather than once per element.
 */
/** Shape and per-operand strides after dropping size-1 dimensions and merging contiguous ones. */
export interface Collapsed {
  shape: number[];
  strides: number[][];
}

/** Drops size-1 dims and merges dim i into i+1 when every operand is contiguous across them. */
export function collapse(shape: readonly number[], strides: readonly (readonly number[])[]): Collapsed {
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const last = outShape.length - 1;
    if (last >= 0 && strides.every((s, k) => outStrides[k][last] === s[d] * shape[d])) {
      outShape[last] *= shape[d];
      strides.forEach((s, k) => {
        outStrides[k][last] = s[d];
      });
    } else {
      outShape.push(shape[d]);
      strides.forEach((s, k) => {
        outStrides[k].push(s[d]);
      });
    }
  }
  return { shape: outShape, strides: outStrides };
}

/**
 * Calls `run(offsets, n, innerStrides)` for each innermost run of the index space.
 * `offsets[k]` is operand k's element offset at the start of the run; `innerStrides[k]` its step.
 * A 0-d space is one run of length 1; an empty space makes no call.
 */
export function forEachRun(
  shape: readonly number[],
  strides: readonly (readonly number[])[],
  offsets: readonly number[],
  run: (offsets: number[], n: number, innerStrides: number[]) => void,
): void {
  const c = collapse(shape, strides);
  const nd = c.shape.length;
  const k = offsets.length;
  const pos = [...offsets];
  if (nd === 0) {
    run(pos, 1, new Array<number>(k).fill(0));
    return;
  }
  if (c.shape.some((d) => d === 0)) return;
  const n = c.shape[nd - 1];
  const inner = c.strides.map((s) => s[nd - 1]);
  const idx = new Array<number>(nd - 1).fill(0);
  for (;;) {
    run(pos, n, inner);
    let d = nd - 2;
    for (; d >= 0; d--) {
      idx[d]++;
      for (let q = 0; q < k; q++) pos[q] += c.strides[q][d];
      if (idx[d] < c.shape[d]) break;
      for (let q = 0; q < k; q++) pos[q] -= c.strides[q][d] * c.shape[d];
      idx[d] = 0;
    }
    if (d < 0) return;
  }
}

/**
 * How a view walks `shape` in row-major order: 1 when it is contiguous over it (size-1 dims aside),
 * 0 when every stride is 0 (one broadcast value), -1 otherwise. Lets small ops skip the general
 * run walk, whose bookkeeping costs more than their arithmetic.
 */
export function runKind(v: { readonly strides: readonly number[] }, shape: readonly number[]): number {
  let zero = true;
  let contiguous = true;
  let expect = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    const len = shape[d];
    if (len === 1) continue;
    const st = v.strides[d];
    if (st !== 0) zero = false;
    if (st !== expect) contiguous = false;
    expect *= len;
  }
  return contiguous ? 1 : zero ? 0 : -1;
}
