/**
 * The report of a shift analysis (`keel shift`): the verdict as the banner (which tests rejected at
 * α over the tests, Bonferroni), the key numbers (p-values, how far the estimated target priors are
 * from the source's, the importance weights' effective sample size, with target labels the prior
 * errors and the corrected accuracy, and the importance-weighted retrain's target loss and
 * accuracy), a table of the tests and one of the class priors (source, each estimate, the truth when
 * known), the priors plotted, the weights' histogram, and the JSON result.
 */
import type { ShiftAnalysis } from '../shift/analyze.js';
import { totalVariation } from '../shift/matrix.js';
import type { TargetScore } from '../shift/retrain.js';
import { formatNumber } from '../util/number.js';
import type { Cell, ReportContent, ReportDraft } from './html.js';
import { binValues, histogramPlot, linePlot, type Plot, type Point } from './plots.js';

/** The importance-weighted retrain's comparison on the labelled target, when it ran. */
export type Retrained = { uncorrected: TargetScore; weighted: TargetScore };

/** The report of an analysis; `names` are the class names, `settings` what ran. */
export function shiftReport(
  a: ShiftAnalysis,
  r: Retrained | undefined,
  o: { names: readonly string[]; target: string; sourceModel: Cell; settings: unknown },
): ReportDraft {
  return {
    content: {
      title: `Distribution shift: ${a.shifted ? 'detected' : 'not detected'}`,
      subtitle: `keel shift — ${o.target}`,
      status: { level: a.shifted ? 'warning' : 'ok', text: shiftVerdict(a) },
      summary: [...shiftSummaryRows(a, r), ['source model', o.sourceModel]],
      tables: tables(a, o.names),
      config: o.settings,
    },
    plots: plots(a, o.names),
  };
}

/** The verdict in one sentence: which tests rejected at the Bonferroni level, or that none did. */
export function shiftVerdict(a: ShiftAnalysis): string {
  const level = a.alpha / a.tests.length;
  const hits = a.tests.filter((t) => t.pValue < level);
  return a.shifted
    ? `Shift detected: ${hits.map((t) => `${t.test} p = ${formatNumber(t.pValue, 4)}`).join(', ')} < ${formatNumber(level, 4)} (α = ${a.alpha} over ${a.tests.length} tests).`
    : `No shift detected at α = ${a.alpha}: every p-value ≥ ${formatNumber(level, 4)} (${a.tests.map((t) => `${t.test} ${formatNumber(t.pValue, 3)}`).join(', ')}).`;
}

/** The key numbers as label → value rows (the report's summary; `keel shift` prints them too). */
export function shiftSummaryRows(a: ShiftAnalysis, r?: Retrained): [string, string][] {
  const rows: [string, string][] = [
    ['samples', `${a.sizes.source} held-out source, ${a.sizes.target} target`],
    ['p-values', a.tests.map((t) => `${t.test} ${formatNumber(t.pValue, 4)}`).join(' · ')],
    [
      'estimated target priors vs source (EM+BCTS)',
      `${formatNumber(totalVariation(a.sourcePriors, a.estimates.find((e) => e.method === 'EM+BCTS')?.priors ?? a.sourcePriors), 3)} total variation from the source priors`,
    ],
    [
      'importance weights',
      `effective sample size ${formatNumber(a.covariate.effectiveSampleSize, 0)} of ${a.covariate.rows}, largest ${formatNumber(a.covariate.max, 3)}`,
    ],
  ];
  if (a.estimates[0].tvError !== undefined)
    rows.push([
      'prior error (TV) with the true labels',
      a.estimates.map((e) => `${e.method} ${formatNumber(e.tvError ?? Number.NaN)}`).join(' · '),
    ]);
  if (a.accuracy)
    rows.push([
      'target accuracy',
      `${formatNumber(a.accuracy.uncorrected)} as trained → ${formatNumber(a.accuracy.emBcts)} corrected by EM+BCTS (BBSE ${formatNumber(a.accuracy.bbse)}, calibrated only ${formatNumber(a.accuracy.calibrated)})`,
    ]);
  if (r)
    rows.push([
      'retrained with importance weights',
      `target loss ${formatNumber(r.uncorrected.loss)} → ${formatNumber(r.weighted.loss)}, accuracy ${formatNumber(r.uncorrected.accuracy ?? Number.NaN)} → ${formatNumber(r.weighted.accuracy ?? Number.NaN)}`,
    ]);
  return rows;
}

function tables(a: ShiftAnalysis, names: readonly string[]): ReportContent['tables'] {
  return [
    {
      title: `Shift tests (verdict at α = ${a.alpha} / ${a.tests.length} each)`,
      header: [
        'test',
        'statistic',
        'p-value (smallest possible: 1/(1 + permutations))',
        'permutations',
        'shifted',
      ],
      rows: a.tests.map((t) => [
        t.test,
        formatNumber(t.statistic),
        formatNumber(t.pValue, 4),
        t.permutations,
        t.pValue < a.alpha / a.tests.length ? 'yes' : 'no',
      ]),
    },
    {
      title: 'Class priors: the source, each estimate of the target, and the target truth when known',
      header: [
        'class',
        'source',
        ...a.estimates.map((e) => e.method),
        ...(a.targetFrequencies ? ['target (true)'] : []),
      ],
      rows: a.sourcePriors.map((p, c) => [
        names[c] ?? `class ${c}`,
        formatNumber(p, 3),
        ...a.estimates.map((e) => formatNumber(e.priors[c], 3)),
        ...(a.targetFrequencies ? [formatNumber(a.targetFrequencies[c], 3)] : []),
      ]),
    },
  ];
}

function plots(a: ShiftAnalysis, names: readonly string[]): Plot[] {
  const k = a.sourcePriors.length;
  const series = (label: string, p: readonly number[]): Point[] => p.map((y, x) => ({ x, y, series: label }));
  const pts: Point[] = [
    ...series('source', a.sourcePriors),
    ...a.estimates
      .filter((e) => e.method === 'EM+BCTS' || e.method === 'BBSE')
      .flatMap((e) => series(`${e.method} estimate`, e.priors)),
    ...(a.targetFrequencies ? series('target (true)', a.targetFrequencies) : []),
  ];
  return [
    linePlot(pts, {
      id: 'shift-priors',
      title: 'Class priors: source, estimated target, true target',
      xTitle: 'class',
      yTitle: 'prior',
      xTicks: Array.from({ length: k }, (_, i) => i),
      caption: names.map((n, i) => `${i} ${n}`).join(', '),
    }),
    histogramPlot(
      [
        {
          series: 'importance weights of the source rows',
          bins: binValues(a.covariate.weights.map(Math.log10), 30),
        },
      ],
      {
        id: 'shift-weights',
        title: `Importance weights p_target/p_source, mean 1 (ESS ${formatNumber(a.covariate.effectiveSampleSize, 0)} of ${a.covariate.rows})`,
        xTitle: 'log₁₀ weight',
      },
    ),
  ];
}

/** The JSON-able result (what `keel shift --json` prints and result.json holds). */
export function shiftResultJson(a: ShiftAnalysis, r?: Retrained) {
  return {
    shifted: a.shifted,
    alpha: a.alpha,
    tests: a.tests.map((t) => ({
      test: t.test,
      statistic: t.statistic,
      pValue: t.pValue,
      permutations: t.permutations,
    })),
    sourcePriors: a.sourcePriors,
    estimates: a.estimates.map((e) => ({
      method: e.method,
      priors: e.priors,
      weights: e.weights,
      tvError: e.tvError,
    })),
    targetFrequencies: a.targetFrequencies,
    importanceWeights: {
      effectiveSampleSize: a.covariate.effectiveSampleSize,
      rows: a.covariate.rows,
      max: a.covariate.max,
      clipped: a.covariate.clipped,
      calibration: a.covariate.calibration,
    },
    accuracy: a.accuracy,
    retrained: r,
    sizes: a.sizes,
  };
}
