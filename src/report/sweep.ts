/**
 * The report of a sweep (runs/<sweep>/report.html): its trials ranked by the sweep's metric
 * (sweep/results.ts; failed and unfinished ones listed after, with their error), and the plots the
 * chapter's comparisons want — the metric, the test loss, the test − train gap and ‖w‖ against each
 * axis with the spread over the other axes (seeds), and heat maps of the metric over pairs of axes.
 */
import type { RankedRow } from '../sweep/results.js';
import { describe, type MetricName, type Sweep } from '../sweep/spec.js';
import { formatNumber } from '../util/number.js';
import type { Cell, ReportContent } from './html.js';
import { type AxisPoint, axisPlot, heatmapPlot, type Plot } from './plots.js';

const label = (v: unknown) => (typeof v === 'number' ? v : JSON.stringify(v));

/** The plots: each axis against the metric and its companions; heat maps over pairs of axes. */
export function sweepPlots(sweep: Sweep, rows: RankedRow[]): Plot[] {
  const done = rows.filter((r) => r.state === 'done');
  const shown: MetricName[] = [sweep.metric.name];
  for (const extra of ['testLoss', 'gap', 'weightNorm'] as const)
    if (!shown.includes(extra) && done.some((r) => r.metrics[extra] !== undefined)) shown.push(extra);
  const varying = sweep.axes.filter(
    (a) => new Set(sweep.trials.map((t) => JSON.stringify(t.params[a]))).size > 1,
  );
  // Seeds are the spread of the other axes' plots, not a setting to plot against.
  const settings = varying.filter((a) => a !== 'seed');
  const plots: Plot[] = settings.map((axis, i) =>
    axisPlot(
      shown.map((metric) => ({
        metric,
        points: done.map(
          (r): AxisPoint => ({ x: label(r.params[axis]), y: r.metrics[metric] ?? Number.NaN }),
        ),
      })),
      {
        id: `sweep-axis-${i}`,
        title: `${shown.join(', ')} against ${axis} (points: trials; line and bars: mean ± sd over the other axes)`,
        xTitle: axis,
      },
    ),
  );
  // Heat maps over pairs of settings.
  const pairs: [string, string][] = [];
  for (let i = 0; i < settings.length; i++)
    for (let j = i + 1; j < settings.length; j++) pairs.push([settings[i], settings[j]]);
  pairs.slice(0, 3).forEach(([ax, ay], k) => {
    const key = (v: unknown) => String(label(v));
    const order = (a: string) => [...new Set(sweep.trials.map((t) => key(t.params[a])))];
    const cells = new Map<string, { x: string; y: string; sum: number; n: number }>();
    for (const r of done) {
      const v = r.metrics[sweep.metric.name];
      if (v === undefined || !Number.isFinite(v)) continue;
      const c = { x: key(r.params[ax]), y: key(r.params[ay]) };
      const id = `${c.x}\u0000${c.y}`;
      const cur = cells.get(id) ?? { ...c, sum: 0, n: 0 };
      cur.sum += v;
      cur.n++;
      cells.set(id, cur);
    }
    plots.push(
      heatmapPlot(
        [...cells.values()].map((c) => ({ x: c.x, y: c.y, value: c.sum / c.n, n: c.n })),
        {
          id: `sweep-heatmap-${k}`,
          title: `Mean ${sweep.metric.name} over ${ax} × ${ay}`,
          xTitle: ax,
          yTitle: ay,
          metric: sweep.metric.name,
          xOrder: order(ax),
          yOrder: order(ay),
        },
      ),
    );
  });
  return plots;
}

/** The report's text parts: status, summary, the ranked table. */
export function sweepContent(
  sweep: Sweep,
  rows: RankedRow[],
  o: { seconds: number; mode: string; interrupted?: string },
): Omit<ReportContent, 'figures'> {
  const count = (s: RankedRow['state']) => rows.filter((r) => r.state === s).length;
  const done = count('done');
  const bad = count('failed') + count('diverged');
  const best = rows.find((r) => r.rank === 1);
  const status: ReportContent['status'] = o.interrupted
    ? {
        level: 'warning',
        text: `${o.interrupted}: ${done} of ${rows.length} trials finished; run the same command again to finish the rest.`,
      }
    : bad || count('unfinished')
      ? {
          level: 'warning',
          text: `${done} of ${rows.length} trials finished; ${count('failed')} failed, ${count('diverged')} diverged, ${count('unfinished')} unfinished (see the table).`,
        }
      : { level: 'ok', text: `All ${rows.length} trials finished.` };
  const summary: [string, Cell][] = [
    ['trials', `${rows.length} (${sweep.axes.join(', ')})`],
    [
      'ranked by',
      `${sweep.metric.name} (${sweep.metric.goal === 'min' ? 'lower' : 'higher'} is better), last epoch`,
    ],
    [
      'best',
      best
        ? {
            text: `${best.trial}: ${sweep.metric.name} ${formatNumber(best.metric ?? Number.NaN)} — ${describe(best.params)}`,
            href: `${best.trial}/report.html`,
          }
        : 'no trial finished',
    ],
    ['ran', `${o.mode}, ${o.seconds.toFixed(1)} s`],
  ];
  const metricCols: MetricName[] = ['testAccuracy', 'testLoss', 'gap', 'weightNorm'];
  return {
    title: `Sweep ${sweep.name}`,
    subtitle: `${rows.length} trials, ranked by ${sweep.metric.name}`,
    status,
    summary,
    tables: [
      {
        title: `Trials, best ${sweep.metric.name} first (each links to its run: runs/${sweep.name}/<trial>/report.html)`,
        header: [
          'rank',
          'trial',
          ...sweep.axes,
          sweep.metric.name,
          ...metricCols.filter((m) => m !== sweep.metric.name),
          'seconds',
          'state',
        ],
        rows: rows.map((r) => [
          r.rank ?? '—',
          r.trial,
          ...sweep.axes.map((a) => {
            const v = r.params[a];
            return typeof v === 'number' ? Number(v.toPrecision(4)) : JSON.stringify(v);
          }),
          r.metric === null ? '—' : formatNumber(r.metric),
          ...metricCols
            .filter((m) => m !== sweep.metric.name)
            .map((m) => (r.metrics[m] === undefined ? '—' : formatNumber(r.metrics[m] as number))),
          r.seconds === null ? '—' : r.seconds.toFixed(1),
          r.error ? `${r.state}: ${r.error}` : r.state,
        ]),
      },
    ],
    config: sweep.source,
  };
}
