/**
 * Index kernels of the js backend: gather / scatterAdd along an axis (index tensor of the output's
 * shape) and indexSelect / indexAdd (a 1-D list of positions). Out-of-range indices throw a
 * ValueError naming the index, the axis and its size.
 */
import { arrayType } from '../../util/dtype.js';
import { ValueError } from '../../util/errors.js';
import { contiguousStrides, sizeOf } from '../../util/shape.js';
import type { HostView as View } from '../host.js';
import { allocate } from '../host.js';
import type { DType, TypedArray } from '../types.js';
import { copyInto } from './elementwise.js';
import { forEachRun } from './iter.js';

function badIndex(op: string, idx: number, axis: number, size: number): never {
  throw new ValueError(
    `${op}: index ${idx} is out of range for axis ${axis} of size ${size} (allowed 0..${size - 1})`,
  );
}

/** The zeroed output of an accumulating kernel, its strides and the size of the indexed axis. */
function accumulator(outShape: readonly number[], axis: number, outDtype: DType) {
  return { out: allocate(outDtype, sizeOf(outShape)), os: contiguousStrides(outShape), size: outShape[axis] };
}

function zeroAxis(strides: readonly number[], axis: number): number[] {
  return strides.map((s, i) => (i === axis ? 0 : s));
}

export function gather(x: View, axis: number, index: View, outDtype: DType): TypedArray {
  const out = allocate(outDtype, sizeOf(index.shape), false);
  const size = x.shape[axis];
  const xa = x.strides[axis];
  const xd = x.data;
  const id = index.data;
  const strides = [index.strides, contiguousStrides(index.shape), zeroAxis(x.strides, axis)];
  forEachRun(index.shape, strides, [index.offset, 0, x.offset], (p, n, s) => {
    for (let i = 0; i < n; i++) {
      const j = id[p[0] + i * s[0]];
      if (j < 0 || j >= size) badIndex('gather', j, axis, size);
      out[p[1] + i] = xd[p[2] + i * s[2] + j * xa];
    }
  });
  return out;
}

export function scatterAdd(
  outShape: readonly number[],
  axis: number,
  index: View,
  src: View,
  outDtype: DType,
): TypedArray {
  const { out, os, size } = accumulator(outShape, axis, outDtype);
  const oa = os[axis];
  const id = index.data;
  const sd = src.data;
  const strides = [index.strides, src.strides, zeroAxis(os, axis)];
  forEachRun(index.shape, strides, [index.offset, src.offset, 0], (p, n, s) => {
    for (let i = 0; i < n; i++) {
      const j = id[p[0] + i * s[0]];
      if (j < 0 || j >= size) badIndex('scatterAdd', j, axis, size);
      out[p[2] + i * s[2] + j * oa] += sd[p[1] + i * s[1]];
    }
  });
  return out;
}

function isRowMajor(x: View): boolean {
  const cs = contiguousStrides(x.shape);
  return x.shape.every((d, i) => d === 1 || x.strides[i] === cs[i]);
}

function without<T>(xs: readonly T[], axis: number): T[] {
  return xs.filter((_, i) => i !== axis);
}

/** The positions of a 1-D int32 index view, in order. */
function positions(index: View): { at: (j: number) => number; length: number } {
  const d = index.data;
  const o = index.offset;
  const s = index.strides[0] ?? 0;
  return { at: (j) => d[o + j * s], length: index.shape[0] ?? 1 };
}

export function indexSelect(x: View, axis: number, indexView: View, outDtype: DType): TypedArray {
  const rows = indexView.shape[0] ?? 1;
  const rowSize = axis === 0 && x.shape.length > 0 ? sizeOf(x.shape) / Math.max(x.shape[0], 1) : 0;
  // Fast path (a batch of rows from a row-major dataset): each selected row is one contiguous block.
  if (
    axis === 0 &&
    x.shape.length > 0 &&
    x.strides[0] === rowSize &&
    isRowMajor(x) &&
    x.data.constructor === arrayType(outDtype)
  ) {
    const out = allocate(outDtype, rows * rowSize, false);
    selectRows(x, rowSize, indexView, rows, out);
    return out;
  }
  const index = positions(indexView);
  const outShape = x.shape.map((d, i) => (i === axis ? index.length : d));
  const out = allocate(outDtype, sizeOf(outShape), false);
  const os = contiguousStrides(outShape);
  const size = x.shape[axis];
  const shape = without(x.shape, axis);
  for (let j = 0; j < index.length; j++) {
    const k = index.at(j);
    if (k < 0 || k >= size) badIndex('indexSelect', k, axis, size);
    copyInto(
      { data: out, shape, strides: without(os, axis), offset: j * os[axis] },
      { data: x.data, shape, strides: without(x.strides, axis), offset: x.offset + k * x.strides[axis] },
    );
  }
  return out;
}

/** Rows index[j] of the row-major `x` (rows of `rowSize`) into `out`, of x's array type. */
function selectRows(x: View, rowSize: number, index: View, rows: number, out: TypedArray): void {
  const size = x.shape[0];
  const xd = x.data;
  const id = index.data;
  const is = index.strides[0] ?? 0;
  for (let j = 0; j < rows; j++) {
    const k = id[index.offset + j * is];
    if (k < 0 || k >= size) badIndex('indexSelect', k, 0, size);
    const start = x.offset + k * rowSize;
    // Short rows by element: a view per row (`subarray`) is an object a row for the collector.
    if (rowSize < 256) for (let i = 0; i < rowSize; i++) out[j * rowSize + i] = xd[start + i];
    else out.set(xd.subarray(start, start + rowSize), j * rowSize);
  }
}

export function indexAdd(
  outShape: readonly number[],
  axis: number,
  indexView: View,
  src: View,
  outDtype: DType,
): TypedArray {
  const index = positions(indexView);
  const { out, os, size } = accumulator(outShape, axis, outDtype);
  const shape = without(outShape, axis);
  const sd = src.data;
  for (let j = 0; j < index.length; j++) {
    const k = index.at(j);
    if (k < 0 || k >= size) badIndex('indexAdd', k, axis, size);
    forEachRun(
      shape,
      [without(os, axis), without(src.strides, axis)],
      [k * os[axis], src.offset + j * src.strides[axis]],
      (p, n, s) => {
        for (let i = 0; i < n; i++) out[p[0] + i * s[0]] += sd[p[1] + i * s[1]];
      },
    );
  }
  return out;
}
