/**
 * Diagnostics for reports and terminals: the per-parameter gradient-norm curves and activation
 * histograms as plots, metrics rows for metrics.jsonl, and the health table of `keel diagnose`.
 */
import { type Bins, binValues, histogramPlot, linePlot, type Plot, type Point } from '../report/plots.js';
import type { Diagnostics, Sample } from './monitor.js';

/** Bins of each layer's sampled output values (from the latest sample), for metrics and plots. */
export function activationBins(d: Diagnostics): Record<string, Bins> {
  return Object.fromEntries(Object.entries(d.histograms).map(([layer, vals]) => [layer, binValues(vals)]));
}

/**
 * Gradient norm per weight over sampled steps, and activation histograms (one panel per layer, on
 * its own scale). Takes samples and bins, so a report can be drawn from metrics.jsonl alone.
 */
export function diagnosticsPlots(samples: readonly Sample[], bins: Record<string, Bins>, id: string): Plot[] {
  const pts: Point[] = [];
  for (const s of samples) {
    for (const [name, p] of Object.entries(s.params)) {
      if (name.endsWith('weight')) pts.push({ x: s.step, y: p.gradNorm ?? Number.NaN, series: name });
    }
  }
  const plots = [
    linePlot(pts, {
      id: `${id}-layer-grad-norms`,
      title: 'Per-layer gradient norms (sampled steps)',
      xTitle: 'step',
      yTitle: '‖∂L/∂W‖',
      logY: true,
      points: false,
      integerX: true,
    }),
  ];
  const layers = Object.entries(bins);
  if (layers.length)
    plots.push(
      histogramPlot(
        layers.map(([series, b]) => ({ series, bins: b })),
        { id: `${id}-activations`, title: 'Layer outputs at the last sampled step', xTitle: 'value' },
      ),
    );
  return plots;
}

/** A metrics.jsonl row for one sample. */
export function sampleRow(s: Sample): Record<string, unknown> {
  return { type: 'diagnostics', ...s };
}

/** Rows of the health table: one per parameter, then one per layer output. */
export function healthRows(s: Sample): { params: string[][]; layers: string[][] } {
  const f = (x: number | null | undefined, digits = 3) =>
    x === null || x === undefined
      ? '—'
      : Math.abs(x) >= 1e4 || (x !== 0 && Math.abs(x) < 1e-3)
        ? x.toExponential(2)
        : x.toFixed(digits);
  return {
    params: Object.entries(s.params).map(([n, p]) => [
      n,
      f(p.gradNorm),
      f(p.weightNorm),
      f(p.updateRatio, 5),
    ]),
    layers: Object.entries(s.layers).map(([n, l]) => [
      n,
      f(l.mean),
      f(l.std),
      l.dead === undefined ? '—' : `${(l.dead * 100).toFixed(0)}%`,
      l.saturated === undefined ? '—' : `${(l.saturated * 100).toFixed(0)}%`,
    ]),
  };
}
