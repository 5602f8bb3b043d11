/**
 * Sums over host values (typed arrays read from tensors) in float64, for the numbers keel reports
 * from host copies: gradient and weight norms (diagnostics, the gradient-norm tracker).
 */

/** Σ d[i]² in float64. */
export function sumOfSquares(d: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < d.length; i++) s += d[i] * d[i];
  return s;
}
