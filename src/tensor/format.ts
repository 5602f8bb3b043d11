/**
 * Readable text of a tensor, in the style of PyTorch: nested brackets, one number format for the
 * whole tensor (integers as `1.`, fixed 4 decimals, or scientific for very large/small magnitudes),
 * and summarization with `...` beyond 1000 elements.
 */
import type { DType } from '../backend/types.js';

const EDGE = 3;
const THRESHOLD = 1000;

function numberFormatter(values: number[], dtype: DType): (v: number) => string {
  if (dtype === 'bool') return (v) => (v ? 'true' : 'false');
  if (dtype === 'int32') return (v) => String(v);
  const finite = values.filter((v) => Number.isFinite(v));
  const abs = finite.map(Math.abs).filter((v) => v > 0);
  const maxAbs = abs.length ? Math.max(...abs) : 0;
  const minAbs = abs.length ? Math.min(...abs) : 0;
  const special = (v: number) => (Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf');
  if (finite.every((v) => Number.isInteger(v)) && maxAbs < 1e8) {
    return (v) => (Number.isFinite(v) ? `${v}.` : special(v));
  }
  if (
    maxAbs >= 1e8 ||
    (minAbs > 0 && minAbs < 1e-4) ||
    (minAbs > 0 && maxAbs / minAbs > 1e3 && maxAbs > 1e3)
  ) {
    return (v) => (Number.isFinite(v) ? v.toExponential(4) : special(v));
  }
  return (v) => (Number.isFinite(v) ? v.toFixed(4) : special(v));
}

/** Formats nested values (already gathered in row-major order) as text. */
export function formatValues(
  flat: ArrayLike<number>,
  shape: readonly number[],
  dtype: DType,
  indent: number,
): string {
  const size = flat.length;
  const summarize = size > THRESHOLD;
  const shown: number[] = [];
  // Gather the values that will be printed so the format fits them.
  const visit = (dim: number, base: number, stride: number): void => {
    if (dim === shape.length) {
      shown.push(flat[base]);
      return;
    }
    const n = shape[dim];
    const inner = stride / Math.max(n, 1);
    for (let i = 0; i < n; i++) {
      if (summarize && n > 2 * EDGE && i === EDGE) i = n - EDGE;
      visit(dim + 1, base + i * inner, inner);
    }
  };
  visit(0, 0, size);
  const fmt = numberFormatter(shown, dtype);
  const width = Math.max(1, ...shown.map((v) => fmt(v).length));
  const cell = (v: number) => fmt(v).padStart(width);
  const render = (dim: number, base: number, stride: number): string => {
    if (dim === shape.length) return cell(flat[base]);
    const n = shape[dim];
    const inner = stride / Math.max(n, 1);
    const parts: string[] = [];
    for (let i = 0; i < n; i++) {
      if (summarize && n > 2 * EDGE && i === EDGE) {
        parts.push('...');
        i = n - EDGE;
      }
      parts.push(render(dim + 1, base + i * inner, inner));
    }
    const lastDim = dim === shape.length - 1;
    const sep = lastDim ? ', ' : `,${'\n'.repeat(shape.length - dim - 1)}${' '.repeat(indent + dim + 1)}`;
    return `[${parts.join(sep)}]`;
  };
  return render(0, 0, size);
}
