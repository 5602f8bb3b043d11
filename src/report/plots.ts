/**
 * Plots as Vega-Lite specifications — plain JSON, built here without loading Vega; render.ts draws
 * them as SVG (headless in Node, native in browsers). One helper per chart kind the reports need: lines over a numeric x (training curves,
 * ‖w‖ against λ, gradient norms per layer), optionally on log scales, and per-series histograms.
 *
 * What a reader must be able to trust, whatever the data:
 * - legends show full labels (never truncated); in training curves the setting is the colour and
 *   the split the line style (train solid, validation dotted, test dashed), in every plot alike;
 * - a series keeps its colour across the plots of a report (`seriesOrder` fixes the palette order),
 *   and stays in the legend when it has nothing to draw, saying why (`— NaN, not drawn`);
 * - one number format per axis, chosen from the data's range (all exponents, or none);
 * - integer quantities (epochs, steps, layers) get integer ticks; swept values (λ) get a tick each;
 * - a plot with nothing to draw says so in words instead of showing empty axes.
 */
import type { TopLevelSpec } from 'vega-lite';
import { type Bins, PALETTE } from './bins.js';

export { type Bins, binValues, PALETTE } from './bins.js';

/** One point of a line chart; `split` draws train/validation/test as solid/dotted/dashed lines. */
export interface Point {
  x: number;
  y: number;
  series: string;
  split?: Split;
}

/** The data split a curve belongs to. */
export type Split = 'train' | 'validation' | 'test';

/** A chart: its id (used as the SVG file name), title, and Vega-Lite spec. */
export interface Plot {
  id: string;
  title: string;
  caption?: string;
  /** Side-by-side panels: shown at full width instead of in a column of the report. */
  wide?: boolean;
  spec: TopLevelSpec;
}

/** Options of `linePlot`. */
export interface LinePlotOptions {
  id: string;
  title: string;
  xTitle: string;
  yTitle: string;
  caption?: string;
  logY?: boolean;
  /** A symmetric-log x axis (shows 0, as λ = 0 in weight-decay sweeps). */
  logX?: boolean;
  /** Draw points as well as lines (default true). */
  points?: boolean;
  /** x counts something (epochs, steps, layers): integer ticks only. */
  integerX?: boolean;
  /** Ticks exactly at these x values (e.g. the λ of a sweep). */
  xTicks?: number[];
  /**
   * Every series this plot belongs with, in palette order: the same list in two plots gives each
   * series the same colour in both, and a listed series without values here still shows in the
   * legend, marked as absent. Default: the series in order of appearance.
   */
  seriesOrder?: string[];
  /** What to say when there is nothing to draw (default: why, from the data). */
  emptyText?: string;
}

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

const SPLITS: Split[] = ['train', 'validation', 'test'];
const DASHES = [
  [1, 0],
  [2, 2],
  [6, 3],
];

/** One d3 format for every tick of an axis over `values`: exponents throughout, or none. */
export function axisFormat(values: number[], log = false): string {
  let max = 0;
  let minNonZero = Number.POSITIVE_INFINITY;
  for (const v of values) {
    const a = Math.abs(v);
    if (!Number.isFinite(a)) continue;
    if (a > max) max = a;
    if (a > 0 && a < minNonZero) minNonZero = a;
  }
  const tiny = log ? minNonZero < 1e-3 : max > 0 && max < 1e-3;
  if (max >= 1e5 || tiny) return log ? '.0e' : '.2~e';
  return ',.6~g';
}

/** Why a value cannot be drawn on this axis (null when it can). */
function undrawable(p: { x: number; y: number }, logY: boolean): 'NaN' | '±Inf' | '≤ 0' | null {
  if (Number.isNaN(p.y) || Number.isNaN(p.x)) return 'NaN';
  if (!Number.isFinite(p.y) || !Number.isFinite(p.x)) return '±Inf';
  if (logY && p.y <= 0) return '≤ 0';
  return null;
}

function reasonText(reasons: Set<string>, logY: boolean): string {
  const r = [...reasons];
  return r.map((x) => (x === '≤ 0' && logY ? '≤ 0 (log axis)' : x)).join(' or ');
}

/** Splits text into lines of at most `width` characters, at spaces (and at its own line breaks). */
export function wrapText(text: string, width = 54): string[] {
  const lines: string[] = [];
  for (const para of text.split('\n')) {
    let line = '';
    for (const word of para.split(' ')) {
      if (line && line.length + 1 + word.length > width) {
        lines.push(line);
        line = word;
      } else line = line ? `${line} ${word}` : word;
    }
    lines.push(line);
  }
  return lines;
}

/** A chart that says in words why there is nothing to draw. */
export function textPlot(o: { id: string; title: string; text: string; caption?: string }): Plot {
  const lines = wrapText(o.text);
  const spec: TopLevelSpec = {
    $schema: SCHEMA,
    title: { text: wrapText(o.title, 60) },
    width: 420,
    height: Math.max(60, 18 * lines.length + 24),
    data: { values: [{ lines }] },
    mark: {
      type: 'text',
      fontSize: 13,
      color: '#4b5563',
      align: 'left',
      baseline: 'top',
      x: 12,
      y: 12,
      lineHeight: 18,
    },
    encoding: { text: { field: 'lines', type: 'nominal' } },
    config: { view: { stroke: '#d1d5db' } },
  };
  return { id: o.id, title: o.title, caption: o.caption, spec };
}

/**
 * A multi-series line chart. Values that cannot be drawn (NaN, ±Inf, ≤ 0 on a log axis) are left
 * out, and the legend says so for their series; a chart with no drawable value is a `textPlot`.
 */
export function linePlot(points: Point[], o: LinePlotOptions): Plot {
  const logY = Boolean(o.logY);
  const order = [...(o.seriesOrder ?? [])];
  for (const p of points) if (!order.includes(p.series)) order.push(p.series);
  const total = new Map<string, number>();
  const dropped = new Map<string, { n: number; reasons: Set<string> }>();
  const values: Point[] = [];
  for (const p of points) {
    total.set(p.series, (total.get(p.series) ?? 0) + 1);
    const why = undrawable(p, logY);
    if (why === null) {
      values.push(p);
      continue;
    }
    const d = dropped.get(p.series) ?? { n: 0, reasons: new Set<string>() };
    d.n++;
    d.reasons.add(why);
    dropped.set(p.series, d);
  }
  // Legend labels: the series name, plus what was left out of it and why.
  const label = new Map<string, string>();
  for (const s of order) {
    const n = total.get(s) ?? 0;
    const d = dropped.get(s);
    if (n === 0) label.set(s, `${s} — no values`);
    else if (d && d.n === n)
      label.set(
        s,
        `${s} — ${n === 1 ? 'its value is' : `all ${n} values are`} ${reasonText(d.reasons, logY)}, not drawn`,
      );
    else if (d) label.set(s, `${s} — ${d.n} of ${n} values ${reasonText(d.reasons, logY)}, not drawn`);
    else label.set(s, s);
  }
  if (values.length === 0) {
    const why =
      o.emptyText ??
      (points.length === 0
        ? 'No values were recorded.'
        : `Nothing to draw: every value is ${reasonText(new Set([...dropped.values()].flatMap((d) => [...d.reasons])), logY)}.`);
    const detail = o.emptyText
      ? []
      : order.filter((s) => label.get(s) !== s).map((s) => label.get(s) as string);
    return textPlot({ ...o, text: [why, ...detail].join('\n') });
  }
  const hasSplit = values.some((p) => p.split !== undefined);
  // A series with a single drawable value is a point, never an invisible line.
  const counts = new Map<string, number>();
  for (const p of values)
    counts.set(`${p.series}\u0000${p.split}`, (counts.get(`${p.series}\u0000${p.split}`) ?? 0) + 1);
  const lonely = [...counts.values()].some((n) => n === 1);
  const data = values.map((p) => ({
    x: p.x,
    y: p.y,
    series: label.get(p.series),
    split: p.split ?? 'train',
  }));
  const xValues = values.map((p) => p.x);
  const xAxis: Record<string, unknown> = { format: axisFormat(xValues, false) };
  if (o.integerX) Object.assign(xAxis, { tickMinStep: 1, format: 'd' });
  if (o.xTicks) Object.assign(xAxis, { values: o.xTicks, format: axisFormat(o.xTicks, false) });
  const domain = order.map((s) => label.get(s) as string);
  const splits = SPLITS.filter((sp) => values.some((p) => (p.split ?? 'train') === sp));
  const x = {
    field: 'x',
    type: 'quantitative' as const,
    title: o.xTitle,
    // Few integer steps (epochs 1–10): the axis spans exactly them; otherwise round ends.
    scale: o.logX
      ? { type: 'symlog' as const }
      : { zero: false, nice: !(o.integerX && Math.max(...xValues) - Math.min(...xValues) <= 30) },
    axis: xAxis,
  };
  const y = {
    field: 'y',
    type: 'quantitative' as const,
    title: o.yTitle,
    scale: logY ? { type: 'log' as const } : { zero: false },
    axis: {
      format: axisFormat(
        values.map((p) => p.y),
        logY,
      ),
    },
  };
  const color = (legend: boolean) => ({
    field: 'series',
    type: 'nominal' as const,
    title: null,
    scale: { domain, range: domain.map((_, i) => PALETTE[i % PALETTE.length]) },
    legend: legend
      ? { labelLimit: 0, orient: 'bottom' as const, direction: 'vertical' as const, symbolType: 'stroke' }
      : null,
  });
  // Lines carry both legends (colour: the series; dash: the split); points, when drawn, are a layer
  // of their own without legends, so the legend symbols stay strokes.
  const lines = {
    mark: { type: 'line' as const },
    encoding: {
      x,
      y,
      color: color(true),
      ...(hasSplit
        ? {
            strokeDash: {
              field: 'split',
              type: 'nominal' as const,
              title: null,
              scale: { domain: splits, range: splits.map((sp) => DASHES[SPLITS.indexOf(sp)]) },
              legend: {
                labelLimit: 0,
                orient: 'bottom' as const,
                symbolType: 'stroke',
                symbolStrokeColor: '#374151',
                symbolStrokeWidth: 2,
              },
            },
          }
        : {}),
      detail: { field: 'split', type: 'nominal' as const },
    },
  };
  const dots = {
    mark: { type: 'point' as const, filled: true, size: 28 },
    encoding: { x, y, color: color(true) },
  };
  const spec: TopLevelSpec = {
    $schema: SCHEMA,
    title: { text: wrapText(o.title, 60) },
    width: 420,
    height: 260,
    data: { values: data },
    layer: lonely || (o.points ?? true) ? [lines, dots] : [lines],
  };
  return { id: o.id, title: o.title, caption: o.caption, spec };
}

/** One run's epoch records, as `fit` and metrics.jsonl have them. */
export interface CurveRun {
  label: string;
  epochs: {
    epoch: number;
    trainLoss: number;
    valLoss?: number;
    testLoss?: number;
    trainAccuracy?: number;
    valAccuracy?: number;
    testAccuracy?: number;
  }[];
}

/**
 * Training curves (loss and, when present, accuracy) from epoch records: the run is the colour,
 * the split the line style. `seriesOrder` as in `linePlot` (default: the runs' labels).
 */
export function curvePlots(
  id: string,
  runs: CurveRun[],
  o: {
    seriesOrder?: string[];
    emptyText?: string /** Appended to both titles: what these runs are. */;
    about?: string;
  } = {},
): Plot[] {
  const loss: Point[] = [];
  const acc: Point[] = [];
  for (const r of runs) {
    for (const e of r.epochs) {
      const at = (y: number | undefined, split: Split, to: Point[]) => {
        if (y !== undefined) to.push({ x: e.epoch, y, series: r.label, split });
      };
      at(e.trainLoss, 'train', loss);
      at(e.valLoss, 'validation', loss);
      at(e.testLoss, 'test', loss);
      at(e.trainAccuracy, 'train', acc);
      at(e.valAccuracy, 'validation', acc);
      at(e.testAccuracy, 'test', acc);
    }
  }
  const about = o.about ? `: ${o.about}` : '';
  const seriesOrder = o.seriesOrder ?? runs.map((r) => r.label);
  // Points mark each epoch while there are few; beyond 30 they would hide the lines.
  const points = Math.max(0, ...runs.map((r) => r.epochs.length)) <= 30;
  const common = { xTitle: 'epoch', integerX: true, seriesOrder, emptyText: o.emptyText, points };
  const plots = [
    linePlot(loss, {
      id: `${id}-loss`,
      title: `Loss per epoch${about}`,
      yTitle: 'loss',
      logY: true,
      ...common,
    }),
  ];
  if (acc.length)
    plots.push(
      linePlot(acc, {
        id: `${id}-accuracy`,
        title: `Accuracy per epoch${about}`,
        yTitle: 'accuracy',
        ...common,
      }),
    );
  return plots;
}

/** Histograms, one small panel per series, each on its own x scale (a layer's range, not the widest). */
export function histogramPlot(
  series: { series: string; bins: Bins }[],
  o: { id: string; title: string; xTitle: string; caption?: string },
): Plot {
  const panels = series
    .filter((s) => s.bins.counts.length > 0)
    .map((s) => {
      const rows = s.bins.counts.map((count, i) => ({ x0: s.bins.edges[i], x1: s.bins.edges[i + 1], count }));
      return {
        title: { text: s.series, fontSize: 11 },
        width: 180,
        height: 110,
        data: { values: rows },
        mark: { type: 'bar' as const, color: PALETTE[0] },
        encoding: {
          // `binned`: the bins are given; without it Vega-Lite reads x/x2 as a horizontal range and
          // draws each bin as a 5-pixel tick at its count instead of a bar from 0.
          x: {
            field: 'x0',
            type: 'quantitative' as const,
            bin: { binned: true },
            title: o.xTitle,
            scale: { zero: false, nice: false },
            axis: { format: axisFormat(s.bins.edges), labelOverlap: true, tickCount: 4 },
          },
          x2: { field: 'x1' },
          y: {
            field: 'count',
            type: 'quantitative' as const,
            title: 'count',
            axis: { format: ',d', tickMinStep: 1 },
          },
        },
      };
    });
  if (!panels.length) return textPlot({ ...o, text: 'No finite values were recorded.' });
  const spec: TopLevelSpec = { $schema: SCHEMA, title: o.title, columns: 3, concat: panels };
  return { id: o.id, title: o.title, caption: o.caption, spec };
}

/** One trial's value of a metric at an axis setting (x: a number, or a label for categorical axes). */
export interface AxisPoint {
  x: number | string;
  y: number;
}

/**
 * A metric against one swept axis: every trial as a faint point, the mean over the other axes (seeds,
 * other settings) as a line, and mean ± one standard deviation as error bars — one panel per metric,
 * side by side. Numeric axes are drawn on a linear scale, or symlog when they span more than two
 * decades (λ from 0 to 3 shows its 0); other values are categories in the order given.
 */
export function axisPlot(
  panels: { metric: string; points: AxisPoint[] }[],
  o: { id: string; title: string; xTitle: string; caption?: string },
): Plot {
  const drawable = panels
    .map((p) => ({ ...p, points: p.points.filter((q) => Number.isFinite(q.y)) }))
    .filter((p) => p.points.length > 0);
  if (!drawable.length) return textPlot({ ...o, text: 'No trial has finished with a finite value.' });
  const numeric = drawable.every((p) => p.points.every((q) => typeof q.x === 'number'));
  const xs = drawable.flatMap((p) => p.points.map((q) => q.x));
  const nums = xs.filter((x): x is number => typeof x === 'number');
  const positive = nums.filter((x) => x > 0);
  const wide = numeric && positive.length > 0 && Math.max(...positive) / Math.min(...positive) >= 50;
  const distinct = [...new Set(xs.map((x) => (typeof x === 'number' ? x : String(x))))];
  const x = numeric
    ? {
        field: 'x',
        type: 'quantitative' as const,
        title: o.xTitle,
        scale: wide ? { type: 'symlog' as const, constant: Math.min(...positive) } : { zero: false },
        axis: {
          values: distinct.length <= 12 ? (distinct as number[]) : undefined,
          format: axisFormat(nums),
          labelOverlap: true,
        },
      }
    : { field: 'x', type: 'ordinal' as const, title: o.xTitle, sort: distinct.map(String) };
  const spec: TopLevelSpec = {
    $schema: SCHEMA,
    title: o.title,
    concat: drawable.map((p) => ({
      title: { text: p.metric, fontSize: 12 },
      width: 220,
      height: 160,
      data: { values: p.points.map((q) => ({ x: numeric ? q.x : String(q.x), y: q.y })) },
      layer: [
        {
          mark: { type: 'point' as const, filled: true, opacity: 0.35, color: PALETTE[0] },
          encoding: {
            x,
            y: { field: 'y', type: 'quantitative' as const, title: p.metric, scale: { zero: false } },
          },
        },
        {
          mark: { type: 'errorbar' as const, extent: 'stdev' as const, color: PALETTE[1] },
          encoding: { x, y: { field: 'y', type: 'quantitative' as const, title: p.metric } },
        },
        {
          mark: { type: 'line' as const, point: true, color: PALETTE[1] },
          encoding: {
            x,
            y: { aggregate: 'mean' as const, field: 'y', type: 'quantitative' as const, title: p.metric },
          },
        },
      ],
    })),
  };
  return { id: o.id, title: o.title, caption: o.caption, spec, wide: drawable.length > 2 };
}

/** A heat map of a metric's mean over two swept axes (rows × columns), the value written in each cell. */
export function heatmapPlot(
  cells: { x: string; y: string; value: number; n: number }[],
  o: {
    id: string;
    title: string;
    xTitle: string;
    yTitle: string;
    metric: string;
    xOrder: string[];
    yOrder: string[];
    caption?: string;
  },
): Plot {
  const finite = cells.filter((c) => Number.isFinite(c.value));
  if (!finite.length) return textPlot({ ...o, text: 'No trial has finished with a finite value.' });
  const fmtValue = axisFormat(finite.map((c) => c.value));
  const values = finite.map((c) => c.value);
  const mid = (Math.min(...values) + Math.max(...values)) / 2;
  const spec: TopLevelSpec = {
    $schema: SCHEMA,
    title: o.title,
    width: Math.max(160, 60 * o.xOrder.length),
    height: Math.max(100, 36 * o.yOrder.length),
    data: { values: finite },
    encoding: {
      x: { field: 'x', type: 'ordinal', title: o.xTitle, sort: o.xOrder },
      y: { field: 'y', type: 'ordinal', title: o.yTitle, sort: o.yOrder },
    },
    layer: [
      {
        mark: 'rect',
        encoding: {
          color: {
            field: 'value',
            type: 'quantitative',
            title: `mean ${o.metric}`,
            scale: { scheme: 'viridis' },
          },
        },
      },
      {
        mark: { type: 'text', fontSize: 11 },
        encoding: {
          text: { field: 'value', type: 'quantitative', format: fmtValue === ',.6~g' ? '.4~g' : fmtValue },
          // Light text on viridis's dark low end, dark text on its light high end.
          color: { condition: { test: `datum.value < ${mid}`, value: '#ffffff' }, value: '#111827' },
        },
      },
    ],
    config: { axis: { grid: false } },
  };
  return { id: o.id, title: o.title, caption: o.caption, spec };
}
