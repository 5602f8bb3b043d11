/**
 * Filling a block of rows with one row (a bias under a product, before the BLAS accumulates onto
 * it): the first row, then the filled part doubled — log₂(rows) copies instead of one per row
 * (256 rows of 256 floats: 12.8 → 7.5 µs; 256 rows of 10: one copy of 40 bytes was one call each).
 */
import type { TypedArray } from './types.js';

/** Fills `rows` rows of `cols` elements from a[to] with the row at a[from] (outside that block). */
export function repeatRow(a: TypedArray, from: number, to: number, rows: number, cols: number): void {
  if (rows <= 0 || cols <= 0) return;
  if (from !== to) a.copyWithin(to, from, from + cols);
  const total = rows * cols;
  for (let done = cols; done < total; ) {
    const more = Math.min(done, total - done);
    a.copyWithin(to + done, to, to + more);
    done += more;
  }
}
