/**
 * The report's light pieces, without Vega: histogram bins and the series palette (Tableau 10, the
 * Vega default, listed so that colours follow the order of series, not sorting). The lab draws with
 * them too, so its charts' colours and bins match the reports'.
 */

/** Tableau 10, in palette order. */
export const PALETTE = [
  '#4c78a8',
  '#f58518',
  '#e45756',
  '#72b7b2',
  '#54a24b',
  '#eeca3b',
  '#b279a2',
  '#ff9da6',
  '#9d755d',
  '#bab0ac',
];

/** A histogram's bins: `edges` has one more entry than `counts`. */
export interface Bins {
  edges: number[];
  counts: number[];
}

/** Bins of `values` over their own range (NaN/Inf left out); a constant sample gets one bin around it. */
export function binValues(values: ArrayLike<number>, bins = 30): Bins {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (lo > hi) return { edges: [], counts: [] };
  if (lo === hi) {
    const w = lo === 0 ? 0.5 : Math.abs(lo) * 0.05;
    lo -= w;
    hi += w;
    bins = 1;
  }
  const width = (hi - lo) / bins;
  const counts = new Array<number>(bins).fill(0);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) continue;
    counts[Math.min(bins - 1, Math.floor((v - lo) / width))]++;
  }
  return { edges: Array.from({ length: bins + 1 }, (_, i) => lo + i * width), counts };
}
